// undici loaded on first use: loading it and compiling its WebAssembly HTTP parser costs 10-20 MB
// of resident memory, which a gateway that never makes such a request should not pay. The
// bundle keeps the module but evaluates it only when this is first called.
import type { Pool } from './http-pool.ts';

let loading: Promise<typeof Pool> | null = null;

export function loadPool(): Promise<typeof Pool> {
  loading ??= import('./http-pool.ts').then((m) => m.Pool);
  return loading;
}

/** A keep-alive pool to `origin`, loading undici first if needed. */
export async function newPool(origin: string, options?: ConstructorParameters<typeof Pool>[1]): Promise<Pool> {
  const PoolClass = await loadPool();
  return new PoolClass(origin, options);
}
