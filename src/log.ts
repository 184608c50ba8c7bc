/**
 * Structured logs (pino) with secrets redacted wherever they may appear in a logged object. On a
 * terminal the lines are rendered by pino-pretty (time, level, message, then the fields on one
 * line); anywhere else they stay JSON, one object per line, for a collector to parse.
 */
import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

/** Keys whose values are never written to a log line, at any depth we log. */
export const REDACTED_KEYS = [
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'clientSecret',
  'client_secret',
  'password',
  'token',
  'secret',
  'authorization',
  'Authorization',
  'cookie',
  'sessionId',
  'SessionId',
  'encryptionKey',
  'adminToken',
  'hapikey',
  'code',
];

const redactPaths = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `req.headers.${key.toLowerCase()}`]);

export type { Logger };

/** How lines are written: `pretty` for a person at a terminal, `json` for everything else. */
export type LogFormat = 'pretty' | 'json';

/** LOG_FORMAT=auto means pretty exactly when stdout is a terminal. */
export function resolveLogFormat(configured: 'auto' | LogFormat, stdoutIsTty: boolean): LogFormat {
  return configured === 'auto' ? (stdoutIsTty ? 'pretty' : 'json') : configured;
}

/** Creates the process logger; `destination` lets tests capture lines. */
export function createLogger(level: string, destination?: NodeJS.WritableStream, format: LogFormat = 'json'): Logger {
  const options = {
    level,
    base: { service: 'smarketing-sync' },
    redact: { paths: [...new Set(redactPaths)], censor: '[redacted]' },
  };
  if (format === 'pretty') {
    // Synchronous, in this thread: a boot failure's last line is written before the process exits.
    const pretty = PinoPretty({
      sync: true,
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,service',
      colorize: destination === undefined && process.stdout.isTTY,
      ...(destination ? { destination } : {}),
    });
    return pino(options, pretty);
  }
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
