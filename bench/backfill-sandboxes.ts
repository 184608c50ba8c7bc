/**
 * The backfill benchmark's CRMs, in a process of their own: the sandbox HubSpot and Salesforce with
 * their rate limits relaxed through the sandboxes' own options (a burst limit of 1,000,000 requests
 * per 10 s, searches unthrottled, a daily Salesforce allowance of 100,000,000), in memory only,
 * HubSpot keeping current property values without their history.
 * Prints `{"hubspot": url, "salesforce": url}` once both listen; stops on SIGTERM.
 */
import { loadConfig } from '../src/config.ts';
import { startHubSpotSandbox } from '../src/sandbox/hubspot/server.ts';
import { startSalesforceSandbox } from '../src/sandbox/salesforce/server.ts';
import { sandboxAccounts } from '../src/startup/sandboxes.ts';

const config = loadConfig({ LOG_LEVEL: 'silent' });
if (!config.ok) throw new Error(config.error);
const accounts = sandboxAccounts(config.value.sandbox);
const hubspot = await startHubSpotSandbox({
  port: 0,
  ...accounts.hubspot,
  rateLimit: { requests: 1_000_000, windowMs: 10_000, searchPerSecond: 1_000 },
  // Current values only: with 50 versions per property a million contacts outgrow an 8 GB heap.
  propertyHistoryLimit: 0,
});
const salesforce = await startSalesforceSandbox({
  port: 0,
  ...accounts.salesforce,
  dailyApiLimit: 100_000_000,
});
process.stdout.write(`${JSON.stringify({ hubspot: hubspot.url, salesforce: salesforce.url })}\n`);
const stop = () => {
  void Promise.all([hubspot.close(), salesforce.close()]).then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
