// Runs TypeScript sources directly under Node 20: `node --import ./scripts/ts-loader.mjs file.ts`.
// Tests, the simulator and benchmarks use this one way; the shipped daemon is the esbuild bundle.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
