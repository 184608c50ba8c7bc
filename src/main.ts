/**
 * Composition root: `npm start` (web + workers in one process), `npm run web`, `npm run worker`.
 * Exit codes: 0 after a clean shutdown, 1 when a dependency is missing or unreachable or a port is
 * taken at boot (one line with the fix), 2 for invalid config.
 */
import { loadConfig } from './config.ts';
import { createLogger, resolveLogFormat } from './log.ts';
import { boot, type Role } from './startup/boot.ts';
import { bootFailureLine, readyLine } from './startup/boot-messages.ts';

function parseRole(argv: readonly string[]): Role | undefined {
  const flag = argv.find((arg) => arg.startsWith('--role='));
  const role = flag ? flag.slice('--role='.length) : 'all';
  return role === 'all' || role === 'web' || role === 'worker' ? role : undefined;
}

async function main(): Promise<void> {
  const role = parseRole(process.argv.slice(2));
  if (!role) {
    process.stderr.write('Unknown --role: use --role=all, --role=web or --role=worker\n');
    process.exit(2);
  }
  const config = loadConfig();
  if (!config.ok) {
    process.stderr.write(`${config.error}\n`);
    process.exit(2);
  }
  const format = resolveLogFormat(config.value.logFormat, process.stdout.isTTY === true);
  const log = createLogger(config.value.logLevel, undefined, format);
  let app;
  try {
    app = await boot(config.value, { role, log });
  } catch (error) {
    const line = bootFailureLine(error, config.value);
    if (line === undefined) throw error;
    // One line with the fix on stderr; a JSON log also records it for whoever collects the logs
    // (on a terminal that would print the same line twice).
    if (format === 'json') log.fatal(line);
    process.stderr.write(`${line}\n`);
    process.exit(1);
  }
  const running = app;
  log.info(readyLine(config.value, running.url, process.cwd()));
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new requests, finishing active jobs');
    running
      .close()
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        log.error({ error: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

await main();
