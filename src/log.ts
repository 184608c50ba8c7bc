/** Structured logs (pino) with secrets redacted wherever they may appear in a logged object. */
import { pino, type Logger } from 'pino';

/** Keys whose values are never written to a log line, at any depth we log. */
export const REDACTED_KEYS = [
  'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'clientSecret', 'client_secret',
  'password', 'token', 'secret', 'authorization', 'Authorization', 'cookie', 'sessionId', 'SessionId',
  'encryptionKey', 'adminToken', 'hapikey', 'code',
];

const redactPaths = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `req.headers.${key.toLowerCase()}`]);

export type { Logger };

/** Creates the process logger; `destination` lets tests capture lines. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: 'smarketing-sync' },
    redact: { paths: [...new Set(redactPaths)], censor: '[redacted]' },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
