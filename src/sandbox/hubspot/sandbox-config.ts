import pino from 'pino';
import type { Logger } from 'pino';

/** Options of the sandbox HubSpot server (re-exported by server.ts, the public contract). */
export interface HubSpotSandboxOptions {
  /** Interface to bind, default `127.0.0.1`. */
  host?: string;
  /** 0 = ephemeral (tests); the app uses 4101. */
  port: number;
  /** Hub id of the single portal, default app value 1000001. */
  portalId: number;
  /** Bearer token of the private app (`pat-sandbox-hubspot`). */
  privateAppToken: string;
  clientId: string;
  /** OAuth client secret, also the webhook signing secret. */
  clientSecret: string;
  appId: number;
  /** Developer API key of the Webhooks v3 management API (`?hapikey=`). */
  developerKey: string;
  /** JSON state file (write-behind, atomic rename); undefined = in memory only. */
  stateFile?: string;
  /** Lifetime of issued OAuth access tokens, default 30 min. */
  accessTokenTtlMs?: number;
  /** Per-token limits, default 100 requests / 10 s and 5 searches / s. */
  rateLimit?: { requests: number; windowMs: number; searchPerSecond: number };
  /** Wait before each webhook retry; its length is the number of retries (default: 10 over ~24 h). */
  webhookRetryDelaysMs?: number[];
  /** A delivery slower than this counts as failed, default 5000. */
  webhookTimeoutMs?: number;
  /**
   * Versions kept per property for `propertiesWithHistory`, default 50; 0 keeps none (a benchmark
   * portal of a million contacts then fits in a few GB).
   */
  propertyHistoryLimit?: number;
  logger?: Logger;
  /**
   * Injected clock for record timestamps, token expiry, rate windows and webhook timestamps.
   * Receivers that check `X-HubSpot-Request-Timestamp` against their own clock need it near real time.
   */
  now?: () => number;
}

/** Options with every default applied; what the modules of the sandbox read. */
export interface SandboxConfig extends Required<
  Pick<
    HubSpotSandboxOptions,
    | 'host'
    | 'port'
    | 'portalId'
    | 'privateAppToken'
    | 'clientId'
    | 'clientSecret'
    | 'appId'
    | 'developerKey'
    | 'accessTokenTtlMs'
    | 'webhookTimeoutMs'
    | 'propertyHistoryLimit'
    | 'logger'
    | 'now'
  >
> {
  stateFile: string | undefined;
  rateLimit: { requests: number; windowMs: number; searchPerSecond: number; daily: number };
  webhookRetryDelaysMs: readonly number[];
  /** Events that happen within this window go out in one request (HubSpot batches close events). */
  webhookBatchWindowMs: number;
  /** The user id behind simulated HubSpot UI edits (`sourceId: "userId:…"`). */
  uiUserId: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** HubSpot's documented schedule: up to 10 retries spread over about 24 hours. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  4 * HOUR,
  6 * HOUR,
  10 * HOUR,
];

/** Applies the defaults of the contract (port 4101 is the app's choice; tests pass 0). */
export function resolveConfig(options: HubSpotSandboxOptions): SandboxConfig {
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port,
    portalId: options.portalId,
    privateAppToken: options.privateAppToken,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    appId: options.appId,
    developerKey: options.developerKey,
    stateFile: options.stateFile,
    accessTokenTtlMs: options.accessTokenTtlMs ?? 30 * MINUTE,
    rateLimit: {
      requests: options.rateLimit?.requests ?? 100,
      windowMs: options.rateLimit?.windowMs ?? 10_000,
      searchPerSecond: options.rateLimit?.searchPerSecond ?? 5,
      daily: 250_000,
    },
    webhookRetryDelaysMs: options.webhookRetryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
    webhookTimeoutMs: options.webhookTimeoutMs ?? 5000,
    propertyHistoryLimit: options.propertyHistoryLimit ?? 50,
    webhookBatchWindowMs: 50,
    uiUserId: 3_000_001,
    logger: options.logger ?? pino({ level: 'silent' }),
    now: options.now ?? Date.now,
  };
}
