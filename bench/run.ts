/** `npm run bench [name…]`: runs the benchmarks (all by default) and prints their tables. */
import { printIntake, runIntakeBench } from './intake.bench.ts';
import { printLifecycle, runLifecycleBench } from './lifecycle.bench.ts';
import { printScaleOut, runScaleOutBench } from './scale-out.bench.ts';

const benches: Record<string, () => Promise<void>> = {
  intake: async () => printIntake(await runIntakeBench()),
  lifecycle: async () => printLifecycle(await runLifecycleBench()),
  'scale-out': async () => printScaleOut(await runScaleOutBench()),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in benches));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) await benches[name]?.();
process.exit(0);
