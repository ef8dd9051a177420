// A worker thread that runs one share of the seeds (see run-seeds.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { BatchRequest } from './run-seeds.ts';
import { runBatch } from './run-seeds.ts';

parentPort!.postMessage(runBatch(workerData as BatchRequest));
