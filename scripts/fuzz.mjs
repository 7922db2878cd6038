// npm run fuzz -- [--runs N] [--seed S]: the fuzz test of the request path (test/fuzz) with more
// cases than npm test runs, or another seed. A failure prints the seed and the shrunk request;
// replay it with the same --seed (and --runs at least the failing run's number).
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

let values;
try {
  ({ values } = parseArgs({ options: { runs: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
} catch (error) {
  console.error(`fuzz: ${error.message}. Usage: npm run fuzz -- [--runs N] [--seed S]`);
  process.exit(2);
}
if (values.help) {
  console.log('Usage: npm run fuzz -- [--runs N] [--seed S]   (defaults: 20000 runs, the seed of npm test)');
  process.exit(0);
}
const env = { ...process.env, BEIA_FUZZ_RUNS: values.runs ?? '20000' };
for (const [name, value] of [
  ['runs', env.BEIA_FUZZ_RUNS],
  ['seed', values.seed],
]) {
  if (value !== undefined && !/^\d+$/.test(value)) {
    console.error(`fuzz: --${name} is "${value}"; expected a whole number.`);
    process.exit(2);
  }
}
if (values.seed !== undefined) env.BEIA_FUZZ_SEED = values.seed;
console.log(`fuzz: ${env.BEIA_FUZZ_RUNS} runs, seed ${env.BEIA_FUZZ_SEED ?? 'of npm test'}`);
const run = spawnSync('npx', ['vitest', 'run', 'test/fuzz'], { stdio: 'inherit', env });
process.exit(run.status ?? 1);
