// Runs a range of seeds, in worker threads when asked, and reports the failing ones.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { mutations } from './mutations.ts';
import type { SimParams } from './simulation.ts';
import { runSeed } from './simulation.ts';

export interface SeedFailure {
  seed: number;
  violation: string;
  params: SimParams;
}

export interface BatchResult {
  seeds: number;
  failures: SeedFailure[];
  committedEntries: number;
  leadersElected: number;
  crashes: number;
  livenessTicksMax: number;
}

export interface BatchRequest {
  start: number;
  count: number;
  /** Every stride-th seed from start (for splitting a range over workers). */
  stride: number;
  mutation?: string;
  /** Stop at the first failure (mutation checks). */
  stopAtFirst?: boolean;
}

export function runBatch(req: BatchRequest): BatchResult {
  const factory = req.mutation ? mutations[req.mutation] : undefined;
  if (req.mutation && !factory) throw new Error(`unknown mutation "${req.mutation}"; known: ${Object.keys(mutations).join(', ')}`);
  const out: BatchResult = { seeds: 0, failures: [], committedEntries: 0, leadersElected: 0, crashes: 0, livenessTicksMax: 0 };
  for (let i = 0; i < req.count; i++) {
    const seed = req.start + i * req.stride;
    const r = runSeed({ seed, ...(factory ? { raftFactory: factory } : {}) });
    out.seeds++;
    out.committedEntries += r.stats.committedEntries;
    out.leadersElected += r.stats.leadersElected;
    out.crashes += r.stats.crashes;
    out.livenessTicksMax = Math.max(out.livenessTicksMax, r.stats.livenessTicks);
    if (r.violation) {
      out.failures.push({ seed, violation: r.violation, params: r.params });
      if (req.stopAtFirst) break;
    }
  }
  return out;
}

function merge(results: BatchResult[]): BatchResult {
  const out: BatchResult = { seeds: 0, failures: [], committedEntries: 0, leadersElected: 0, crashes: 0, livenessTicksMax: 0 };
  for (const r of results) {
    out.seeds += r.seeds;
    out.failures.push(...r.failures);
    out.committedEntries += r.committedEntries;
    out.leadersElected += r.leadersElected;
    out.crashes += r.crashes;
    out.livenessTicksMax = Math.max(out.livenessTicksMax, r.livenessTicksMax);
  }
  out.failures.sort((a, b) => a.seed - b.seed);
  return out;
}

/** Splits [start, start + count) over `workers` threads (1 = this thread). */
export async function runSeeds(start: number, count: number, workers: number, mutation?: string): Promise<BatchResult> {
  const n = Math.max(1, Math.min(workers, count));
  if (n === 1) return runBatch({ start, count, stride: 1, ...(mutation ? { mutation } : {}) });
  const jobs: Promise<BatchResult>[] = [];
  for (let w = 0; w < n; w++) {
    const req: BatchRequest = { start: start + w, count: Math.ceil((count - w) / n), stride: n, ...(mutation ? { mutation } : {}) };
    jobs.push(
      new Promise((resolve, reject) => {
        // The worker inherits this process's --import of the TypeScript loader.
        const worker = new Worker(new URL('./seed-worker.ts', import.meta.url), { workerData: req, execArgv: process.execArgv });
        worker.once('message', (r: BatchResult) => resolve(r));
        worker.once('error', reject);
        worker.once('exit', (code) => {
          if (code !== 0) reject(new Error(`simulation worker exited with code ${code}`));
        });
      }),
    );
  }
  return merge(await Promise.all(jobs));
}

export function defaultWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}
