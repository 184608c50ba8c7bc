/**
 * The lifecycle benchmark's pull-mode row, in a process of its own: an app with both sides of its
 * installation in pull mode, under the same steady load as the push row. Prints the latencies as
 * one JSON line.
 */
import { steadyLatency, switchToPull, withApp } from './lifecycle.bench.ts';

// The feeds notice a changed mode at their refresh (30 s / 15 s by default): a shorter refresh only
// saves the bench that wait; how soon a change is read once followed stays the product default.
const result = await withApp('lifecycle-pull', { journalRefreshMs: 500, salesforceFeedRefreshMs: 500 }, async (bench) => {
  await switchToPull(bench);
  return steadyLatency(bench, 'pull');
});
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
