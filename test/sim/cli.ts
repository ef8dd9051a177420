// npm run sim -- --seeds N [--start S] [--workers K] [--mutation NAME] [--trace SEED]
// Runs N seeds of the deterministic Raft simulation; the last line is
// `seeds: N, violations: V`, and the exit code is non-zero when V > 0.
import { describeParams, runSeed } from './simulation.ts';
import { mutations } from './mutations.ts';
import { defaultWorkers, runSeeds } from './run-seeds.ts';

function usage(message: string): never {
  console.error(`sim: ${message}`);
  console.error('usage: npm run sim -- --seeds N [--start S] [--workers K] [--mutation NAME] [--trace SEED]');
  process.exit(2);
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) usage(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (!['seeds', 'start', 'workers', 'mutation', 'trace'].includes(name)) usage(`unknown flag --${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined) usage(`--${name} needs a value`);
    out[name] = value;
  }
  return out;
}

function integer(args: Record<string, string>, name: string, fallback: number, min: number): number {
  const raw = args[name];
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) usage(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return Number(raw);
}

const args = parseArgs(process.argv.slice(2));
const mutation = args.mutation;
if (mutation !== undefined && !(mutation in mutations)) usage(`unknown mutation "${mutation}"; known: ${Object.keys(mutations).join(', ')}`);

if (args.trace !== undefined) {
  // Replays one seed and prints everything that happened.
  const seed = integer(args, 'trace', 0, 0);
  const r = runSeed({ seed, trace: true, ...(mutation ? { raftFactory: mutations[mutation]! } : {}) });
  console.log(`seed ${seed}: ${describeParams(r.params)}`);
  for (const line of r.trace) console.log(line);
  console.log(r.violation ? `violation: ${r.violation}` : 'no violation');
  console.log(`seeds: 1, violations: ${r.violation ? 1 : 0}`);
  process.exit(r.violation ? 1 : 0);
}

const seeds = integer(args, 'seeds', 1000, 1);
const start = integer(args, 'start', 1, 0);
const workers = integer(args, 'workers', defaultWorkers(), 1);
const began = performance.now();
const result = await runSeeds(start, seeds, workers, mutation);
const seconds = (performance.now() - began) / 1000;
for (const f of result.failures.slice(0, 20)) {
  console.log(`seed ${f.seed}: ${f.violation}`);
  console.log(`  params: ${describeParams(f.params)}`);
  console.log(`  replay: npm run sim -- --trace ${f.seed}${mutation ? ` --mutation ${mutation}` : ''}`);
}
if (result.failures.length > 20) console.log(`... and ${result.failures.length - 20} more failing seeds`);
console.log(
  `ran seeds ${start}..${start + seeds - 1} in ${seconds.toFixed(1)} s on ${workers} worker(s): ` +
    `${result.committedEntries} entries committed, ${result.leadersElected} leaders elected, ${result.crashes} crashes, ` +
    `slowest liveness ${result.livenessTicksMax} ticks`,
);
console.log(`seeds: ${result.seeds}, violations: ${result.failures.length}`);
process.exit(result.failures.length > 0 ? 1 : 0);
