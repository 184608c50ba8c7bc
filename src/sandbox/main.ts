/** `npm run sandbox`: the two sandbox CRMs alone, on 127.0.0.1:4101 (HubSpot) and :4102 (Salesforce, with its Pub/Sub API on :4103). */
import { loadConfig } from '../config.ts';
import { createLogger, resolveLogFormat } from '../log.ts';
import { startSandboxes } from '../startup/sandboxes.ts';

const config = loadConfig();
if (!config.ok) {
  process.stderr.write(`${config.error}\n`);
  process.exit(2);
}
const log = createLogger(config.value.logLevel, undefined, resolveLogFormat(config.value.logFormat, process.stdout.isTTY === true));
const sandboxes = await startSandboxes(config.value, log, { hubspot: true, salesforce: true });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  sandboxes.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
