import { pino, type Logger } from 'pino';

/** Options of the sandbox Salesforce org (re-exported by server.ts, the public contract). */
export interface SalesforceSandboxOptions {
  host?: string;
  port: number;
  /** Port of the Pub/Sub API (gRPC); 0 or absent: an ephemeral one. */
  pubsubPort?: number;
  orgId: string;
  username: string;
  password: string;
  clientId: string;
  clientSecret: string;
  stateFile?: string;
  accessTokenTtlMs?: number;
  dailyApiLimit?: number;
  outboundRetryDelaysMs?: number[];
  logger?: Logger;
  now?: () => number;
}

/** Options with every default applied; what the modules of the sandbox read. */
export interface SandboxConfig {
  host: string;
  port: number;
  pubsubPort: number;
  orgId: string;
  username: string;
  password: string;
  clientId: string;
  clientSecret: string;
  stateFile: string | undefined;
  accessTokenTtlMs: number;
  dailyApiLimit: number;
  outboundRetryDelaysMs: readonly number[];
  /** How long the sandbox waits for an Outbound Message listener to answer. */
  outboundTimeoutMs: number;
  logger: Logger;
  now: () => number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Salesforce's schedule: retries at exponentially growing intervals, capped at 2 h apart, until
 * the message is 24 h old, then it is dropped. Starts at 15 s here.
 */
export const DEFAULT_OUTBOUND_RETRY_DELAYS_MS: readonly number[] = (() => {
  const delays: number[] = [];
  let next = 15_000;
  let total = 0;
  while (total + next <= 24 * HOUR) {
    delays.push(next);
    total += next;
    next = Math.min(next * 2, 2 * HOUR);
  }
  return delays;
})();

/** Applies the defaults of the contract (port 4102 is the app's choice; tests pass 0). */
export function resolveConfig(options: SalesforceSandboxOptions): SandboxConfig {
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port,
    pubsubPort: options.pubsubPort ?? 0,
    orgId: options.orgId,
    username: options.username,
    password: options.password,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    stateFile: options.stateFile,
    accessTokenTtlMs: options.accessTokenTtlMs ?? 2 * HOUR,
    dailyApiLimit: options.dailyApiLimit ?? 15_000,
    outboundRetryDelaysMs: options.outboundRetryDelaysMs ?? DEFAULT_OUTBOUND_RETRY_DELAYS_MS,
    outboundTimeoutMs: 10_000,
    logger: options.logger ?? pino({ level: 'silent' }),
    now: options.now ?? Date.now,
  };
}
