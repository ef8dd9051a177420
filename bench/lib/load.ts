// A closed-loop load generator: `concurrency` workers each issue one operation after another
// for a fixed time; latencies are recorded per operation and summarised as p50/p99.
export interface LoadResult {
  ops: number;
  errors: number;
  seconds: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs until `durationMs` has passed or, when given, `count` operations have been started. */
export async function runLoad(options: { concurrency: number; durationMs: number; count?: number; op: (worker: number, i: number) => Promise<void> }): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown = null;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const count = options.count ?? Infinity;
  let begun = 0;
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < deadline && begun < count; i++) {
      begun++;
      const t0 = performance.now();
      try {
        await options.op(w, i);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;
  if (errors > 0 && latencies.length === 0) throw new Error(`every operation failed; first error: ${String((firstError as Error)?.message ?? firstError)}`);
  latencies.sort((a, b) => a - b);
  return { ops: latencies.length, errors, seconds, opsPerSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
