/** `npm run bench [name…] [--contacts N]`: runs the benchmarks (all by default) and prints their tables. */
import { printBackfill, runBackfillBench } from './backfill.bench.ts';
import { printIntake, runIntakeBench } from './intake.bench.ts';
import { printInstallations, runInstallationsBench } from './installations.bench.ts';
import { printLifecycle, runLifecycleBench } from './lifecycle.bench.ts';
import { printScaleOut, runScaleOutBench } from './scale-out.bench.ts';
import { printTenants, runTenantsBench } from './tenants.bench.ts';

const benches: Record<string, () => Promise<void>> = {
  intake: async () => printIntake(await runIntakeBench()),
  lifecycle: async () => printLifecycle(await runLifecycleBench()),
  'scale-out': async () => printScaleOut(await runScaleOutBench()),
  // Several installations on one deployment (about 3 minutes): run by name.
  tenants: async () => printTenants(await runTenantsBench()),
  // Hundreds of installations installed through the admin, a minute measured at each step (about 15 minutes): run by name.
  installations: async () => printInstallations(await runInstallationsBench()),
  // The full form (a million contacts) takes about half an hour: not part of the default run.
  backfill: async () => printBackfill(await runBackfillBench()),
};
const byDefault = ['intake', 'lifecycle', 'scale-out'];

// Options (`--contacts N`) and their values are read by the benchmarks themselves.
const args = process.argv.slice(2);
const wanted = args.filter((arg, i) => !arg.startsWith('--') && !(args[i - 1]?.startsWith('--') ?? false));
const unknown = wanted.filter((name) => !(name in benches));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : byDefault) await benches[name]?.();
process.exit(0);
