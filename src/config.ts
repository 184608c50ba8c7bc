/**
 * The one place that reads the environment. Parsed once at boot with zod; every problem is listed
 * at once and no value is ever echoed back (a secret may be the value that is wrong).
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { keyIdCollision } from './runtime/secrets.ts';
import { parseAddressRanges, type AddressRange } from './sync/outbound-http.ts';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on');

const port = z.coerce.number().int().min(0).max(65535);
const url = z.url({ protocol: /^https?$/ });
const optionalNonEmpty = z.string().min(1).optional();

/** ENCRYPTION_KEY: 32 bytes as 64 hex characters or base64. */
const encryptionKey = z.string().transform((raw, ctx) => {
  const bytes = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (bytes.length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, as 64 hex characters or base64' });
    return z.NEVER;
  }
  return bytes;
});

/**
 * A bearer secret (ADMIN_TOKEN, METRICS_TOKEN) must carry at least 256 bits, counted from its
 * alphabet: 64 or more hex characters, or 43 or more base64/base64url characters (`=` padding not
 * counted), with at least 10 different characters so a repeated pattern is refused. Nothing else
 * is accepted: a word, a passphrase or a short value cannot be checked for randomness.
 */
export function isStrongToken(value: string): boolean {
  const body = value.replace(/=+$/, '');
  if (new Set(body).size < 10) return false;
  if (/^[0-9a-fA-F]+$/.test(body)) return body.length >= 64;
  return /^[A-Za-z0-9+/_-]+$/.test(body) && body.length >= 43;
}

const strongToken = z.string().refine(isStrongToken, {
  message: 'must be at least 32 random bytes (64 hex or 43 base64 characters): generate one with `openssl rand -base64 32`',
});

/** TRUST_PROXY: the proxies whose X-Forwarded-For is believed, as addresses, CIDRs or Express's names. */
const trustProxy = z.string().transform((raw, ctx) => {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) continue;
    const [address = '', bits, ...rest] = entry.split('/');
    const family = isIP(address);
    const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (family === 0 || !bitsOk || rest.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be a comma-separated list of IP addresses or CIDRs (e.g. 10.0.0.0/8, 127.0.0.1), or loopback, linklocal, uniquelocal',
      });
      return z.NEVER;
    }
  }
  return entries;
});

const EnvSchema = z.object({
  PORT: port.default(3000),
  HOST: z
    .string()
    .refine((v) => isIP(v) !== 0 || v === 'localhost', 'must be an IP address to listen on (127.0.0.1, 0.0.0.0, ::) or localhost')
    .optional(),
  PUBLIC_URL: url.optional(),
  TRUST_PROXY: trustProxy.optional(),
  METRICS_TOKEN: strongToken.optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  /** `true`: REDIS_URL is one node of a Redis Cluster, the others are found from it. */
  REDIS_CLUSTER: booleanFlag.default(false),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  ENCRYPTION_KEY: encryptionKey.optional(),
  ENCRYPTION_KEY_PREVIOUS: z
    .string()
    .transform((raw) =>
      raw
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    )
    .pipe(z.array(encryptionKey))
    .optional(),
  ADMIN_TOKEN: strongToken.optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // auto: readable lines on a terminal, JSON lines otherwise (a log collector, a pipe, a file).
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  SANDBOX: booleanFlag.optional(),
  SANDBOX_DEMO: booleanFlag.default(true),
  // false: the sandbox CRMs keep their records in memory only (the benchmarks: a real CRM's storage costs the deployment nothing).
  SANDBOX_PERSIST: booleanFlag.default(true),
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(60_000),
  RECONCILE_LOOKBACK_MS: z.coerce.number().int().min(0).default(120_000),
  // Private ranges the alert target may point to (a receiver on the operator's own network); none by default.
  OUTBOUND_ALLOW_PRIVATE: z
    .string()
    .transform((raw, ctx) => {
      const parsed = parseAddressRanges(
        raw
          .split(',')
          .map((entry) => entry.trim())
          .filter(Boolean),
      );
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed.value;
    })
    .optional(),

  HUBSPOT_API_BASE_URL: url.default('https://api.hubapi.com'),
  HUBSPOT_ACCESS_TOKEN: optionalNonEmpty,
  HUBSPOT_CLIENT_ID: optionalNonEmpty,
  HUBSPOT_CLIENT_SECRET: optionalNonEmpty,
  HUBSPOT_AUTHORIZE_URL: url.optional(),

  SALESFORCE_LOGIN_URL: url.default('https://login.salesforce.com'),
  SALESFORCE_INSTANCE_URL: url.optional(),
  SALESFORCE_ACCESS_TOKEN: optionalNonEmpty,
  SALESFORCE_REFRESH_TOKEN: optionalNonEmpty,
  SALESFORCE_CLIENT_ID: optionalNonEmpty,
  SALESFORCE_CLIENT_SECRET: optionalNonEmpty,
  SALESFORCE_API_VERSION: z
    .string()
    .regex(/^\d{2,3}\.0$/, 'must look like 62.0')
    .default('62.0'),
  // The Pub/Sub API of the org's region when Salesforce names another (`host:port`, TLS).
  SALESFORCE_PUBSUB_ENDPOINT: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port, e.g. api.pubsub.salesforce.com:7443')
    .optional(),
  SALESFORCE_ORG_ID: z
    .string()
    .regex(/^00D[0-9A-Za-z]{12}([0-9A-Za-z]{3})?$/, 'must be a 15 or 18 character org id starting with 00D')
    .optional(),

  // Email for the review digest (src/sync/mail.ts); all optional, SMTP_HOST turns it on.
  SMTP_HOST: z.string().trim().min(1).optional(),
  SMTP_PORT: port.optional(),
  SMTP_SECURE: booleanFlag.optional(),
  SMTP_USER: optionalNonEmpty,
  SMTP_PASSWORD: optionalNonEmpty,
  SMTP_FROM: z
    .string()
    .trim()
    .refine((value) => z.email().safeParse(/<([^<>]+)>$/.exec(value)?.[1] ?? value).success, 'must be an address, or a name and <address>')
    .optional(),

  SANDBOX_HUBSPOT_PORT: port.default(4101),
  SANDBOX_HUBSPOT_PORTAL_ID: z.coerce.number().int().positive().default(1000001),
  SANDBOX_HUBSPOT_TOKEN: z.string().min(1).default('pat-sandbox-hubspot'),
  SANDBOX_HUBSPOT_CLIENT_ID: z.string().min(1).default('sandbox-hubspot-client'),
  SANDBOX_HUBSPOT_CLIENT_SECRET: z.string().min(1).default('sandbox-hubspot-secret'),
  SANDBOX_HUBSPOT_APP_ID: z.coerce.number().int().positive().default(2000001),
  SANDBOX_HUBSPOT_DEV_KEY: z.string().min(1).default('SANDBOX_HUBSPOT_DEV_KEY'),
  // The portal's burst limit per 10 s: 100 on Free/Starter, 190 on Professional/Enterprise, 250 with the limit pack.
  SANDBOX_HUBSPOT_BURST_LIMIT: z.coerce.number().int().min(10).max(1000).default(100),
  SANDBOX_SALESFORCE_PORT: port.default(4102),
  // Unset: the port after SANDBOX_SALESFORCE_PORT (4103), or ephemeral when that one is (0), so parallel sandboxes never collide.
  SANDBOX_SALESFORCE_PUBSUB_PORT: port.optional(),
  SANDBOX_SALESFORCE_ORG_ID: z
    .string()
    .regex(/^00D[0-9A-Za-z]{15}$/, 'must be an 18 character org id')
    .default('00D000000000001AAA'),
  SANDBOX_SALESFORCE_USERNAME: z.string().min(1).default('admin@sandbox.example.com'),
  SANDBOX_SALESFORCE_PASSWORD: z.string().min(1).default('sandbox'),
  SANDBOX_SALESFORCE_CLIENT_ID: z.string().min(1).default('sandbox-salesforce-client'),
  SANDBOX_SALESFORCE_CLIENT_SECRET: z.string().min(1).default('sandbox-salesforce-secret'),
});

type Env = z.infer<typeof EnvSchema>;

/** The SMTP server the review digest is sent through (SMTP_*); the password is never logged. */
export interface SmtpConfig {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  auth: { user: string; password: string } | undefined;
  /** The From header: `Name <address>` or an address. */
  from: string;
}

/** How one CRM side is reached: its own sandbox, or the real service with credentials. */
export type CrmMode = 'sandbox' | 'live';

export interface AppConfig {
  port: number;
  /**
   * The address HTTP listens on: HOST when set, else all interfaces when PUBLIC_URL says the app is
   * reached from elsewhere, else loopback only.
   */
  host: string;
  /** Proxies whose X-Forwarded-For gives the client address (none by default). */
  trustProxy: string[];
  /** Bearer token that guards /metrics (and unlocks per-installation series), when set. */
  metricsToken: string | undefined;
  publicUrl: string;
  /** False when PUBLIC_URL is not set: the app then uses the address it listens on. */
  publicUrlExplicit: boolean;
  dataDir: string;
  logLevel: Env['LOG_LEVEL'];
  logFormat: Env['LOG_FORMAT'];
  redisUrl: string | undefined;
  /** REDIS_URL names a node of a Redis Cluster. */
  redisCluster: boolean;
  databaseUrl: string | undefined;
  encryptionKey: Buffer | undefined;
  /** Keys that still decrypt during a rotation. */
  previousEncryptionKeys: Buffer[];
  adminToken: string | undefined;
  sandboxDemo: boolean;
  /** How often the reconciler compares each CRM with what webhooks delivered, and how far back. */
  reconcile: { intervalMs: number; lookbackMs: number };
  /** Private address ranges outbound requests (alerts) may go to; by default only public addresses. */
  outboundAllowPrivate: AddressRange[];
  /** Email for the review digest; undefined when SMTP_HOST is not set. */
  smtp: SmtpConfig | undefined;
  hubspot: {
    mode: CrmMode;
    apiBaseUrl: string;
    accessToken: string | undefined;
    clientId: string | undefined;
    clientSecret: string | undefined;
    /** The OAuth consent page (`…/oauth/authorize`) admins are sent to when installing. */
    authorizeUrl: string;
  };
  salesforce: {
    mode: CrmMode;
    loginUrl: string;
    instanceUrl: string | undefined;
    accessToken: string | undefined;
    refreshToken: string | undefined;
    clientId: string | undefined;
    clientSecret: string | undefined;
    apiVersion: string;
    orgId: string | undefined;
    /** The Pub/Sub API (`host:port`, TLS) the pull mode follows; unset: Salesforce's, api.pubsub.salesforce.com:7443. */
    pubsubEndpoint: string | undefined;
  };
  sandbox: {
    /** The sandbox CRMs' state is written under DATA_DIR/sandbox and read back at boot (false: memory only). */
    persist: boolean;
    hubspot: {
      port: number;
      portalId: number;
      privateAppToken: string;
      clientId: string;
      clientSecret: string;
      appId: number;
      developerKey: string;
      /** Requests per 10 s the sandbox portal allows (its tier). */
      burstLimit: number;
    };
    salesforce: {
      port: number;
      /** The sandbox org's Pub/Sub API (gRPC) port. */
      pubsubPort: number;
      orgId: string;
      username: string;
      password: string;
      clientId: string;
      clientSecret: string;
    };
  };
}

export type ConfigResult = { ok: true; value: AppConfig } | { ok: false; error: string };

/** One message listing every problem. */
function invalid(lines: string[]): ConfigResult {
  return { ok: false, error: `Invalid configuration (${lines.length} problem${lines.length === 1 ? '' : 's'}):\n${lines.join('\n')}` };
}

/** Parses the environment into the app's configuration, or one message listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConfigResult {
  // Empty strings mean "not set" (docker-compose and .env files produce them).
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success)
    return invalid(parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(environment)'}: ${issue.message}`));
  const e = parsed.data;
  const modes = crmModes(e);
  const problems = crossFieldProblems(e, modes);
  if (problems.length > 0) return invalid(problems);

  return {
    ok: true,
    value: {
      port: e.PORT,
      host: e.HOST ?? (e.PUBLIC_URL === undefined ? '127.0.0.1' : '0.0.0.0'),
      trustProxy: e.TRUST_PROXY ?? [],
      metricsToken: e.METRICS_TOKEN,
      publicUrl: (e.PUBLIC_URL ?? `http://127.0.0.1:${e.PORT}`).replace(/\/+$/, ''),
      publicUrlExplicit: e.PUBLIC_URL !== undefined,
      dataDir: path.resolve(e.DATA_DIR),
      logLevel: e.LOG_LEVEL,
      logFormat: e.LOG_FORMAT,
      redisUrl: e.REDIS_URL,
      redisCluster: e.REDIS_CLUSTER,
      databaseUrl: e.DATABASE_URL,
      encryptionKey: e.ENCRYPTION_KEY,
      previousEncryptionKeys: e.ENCRYPTION_KEY_PREVIOUS ?? [],
      adminToken: e.ADMIN_TOKEN,
      sandboxDemo: e.SANDBOX_DEMO,
      reconcile: { intervalMs: e.RECONCILE_INTERVAL_MS, lookbackMs: e.RECONCILE_LOOKBACK_MS },
      outboundAllowPrivate: e.OUTBOUND_ALLOW_PRIVATE ?? [],
      smtp: smtpConfig(e),
      hubspot: hubspotConfig(e, modes.hubspot),
      salesforce: salesforceConfig(e, modes.salesforce),
      sandbox: sandboxConfig(e),
    },
  };
}

/** A side with credentials in the environment is live; without them (or with SANDBOX=true) it is the sandbox. */
function crmModes(e: Env): { hubspot: CrmMode; salesforce: CrmMode; hubspotHasCredentials: boolean; salesforceHasCredentials: boolean } {
  const hubspotHasCredentials = Boolean(e.HUBSPOT_ACCESS_TOKEN || (e.HUBSPOT_CLIENT_ID && e.HUBSPOT_CLIENT_SECRET));
  const salesforceHasCredentials = Boolean(
    e.SALESFORCE_ACCESS_TOKEN || e.SALESFORCE_REFRESH_TOKEN || (e.SALESFORCE_CLIENT_ID && e.SALESFORCE_CLIENT_SECRET),
  );
  return {
    hubspot: e.SANDBOX === true ? 'sandbox' : hubspotHasCredentials ? 'live' : 'sandbox',
    salesforce: e.SANDBOX === true ? 'sandbox' : salesforceHasCredentials ? 'live' : 'sandbox',
    hubspotHasCredentials,
    salesforceHasCredentials,
  };
}

/** The problems no single variable's schema can see: what one mode or variable requires of others. */
function crossFieldProblems(e: Env, modes: ReturnType<typeof crmModes>): string[] {
  const problems: string[] = [];
  if (e.SANDBOX === false) {
    if (!modes.hubspotHasCredentials)
      problems.push('  - HUBSPOT_ACCESS_TOKEN or HUBSPOT_CLIENT_ID + HUBSPOT_CLIENT_SECRET: required when SANDBOX=false');
    if (!modes.salesforceHasCredentials)
      problems.push(
        '  - SALESFORCE_ACCESS_TOKEN, SALESFORCE_REFRESH_TOKEN or SALESFORCE_CLIENT_ID + SALESFORCE_CLIENT_SECRET: required when SANDBOX=false',
      );
  }
  if (e.REDIS_CLUSTER && !e.REDIS_URL)
    problems.push('  - REDIS_URL: required when REDIS_CLUSTER=true (a node of the cluster; the app starts no cluster of its own)');
  const live = modes.hubspot === 'live' || modes.salesforce === 'live';
  if (live && !e.ENCRYPTION_KEY) problems.push('  - ENCRYPTION_KEY: required when a real CRM is connected (tokens are encrypted at rest)');
  if (live && !e.ADMIN_TOKEN) problems.push('  - ADMIN_TOKEN: required when a real CRM is connected (it guards /admin and /api)');
  if (e.SALESFORCE_ACCESS_TOKEN && !e.SALESFORCE_INSTANCE_URL)
    problems.push('  - SALESFORCE_INSTANCE_URL: required with SALESFORCE_ACCESS_TOKEN');
  if (e.ENCRYPTION_KEY) {
    const collision = keyIdCollision([
      { label: 'ENCRYPTION_KEY', key: e.ENCRYPTION_KEY },
      ...(e.ENCRYPTION_KEY_PREVIOUS ?? []).map((key, i) => ({ label: `ENCRYPTION_KEY_PREVIOUS #${i + 1}`, key })),
    ]);
    if (collision) problems.push(`  - ENCRYPTION_KEY_PREVIOUS: ${collision}`);
  }
  if (e.SMTP_HOST !== undefined && e.SMTP_FROM === undefined)
    problems.push('  - SMTP_FROM: required with SMTP_HOST (the address the review digest is sent from)');
  if (e.SMTP_HOST === undefined && [e.SMTP_PORT, e.SMTP_SECURE, e.SMTP_USER, e.SMTP_PASSWORD, e.SMTP_FROM].some((v) => v !== undefined))
    problems.push('  - SMTP_HOST: required when any other SMTP_ variable is set');
  if ((e.SMTP_USER === undefined) !== (e.SMTP_PASSWORD === undefined))
    problems.push('  - SMTP_USER and SMTP_PASSWORD: set both, or neither');
  return problems;
}

function smtpConfig(e: Env): AppConfig['smtp'] {
  return e.SMTP_HOST === undefined || e.SMTP_FROM === undefined
    ? undefined
    : {
        host: e.SMTP_HOST,
        port: e.SMTP_PORT ?? (e.SMTP_SECURE === true ? 465 : 587),
        secure: e.SMTP_SECURE ?? e.SMTP_PORT === 465,
        auth: e.SMTP_USER !== undefined && e.SMTP_PASSWORD !== undefined ? { user: e.SMTP_USER, password: e.SMTP_PASSWORD } : undefined,
        from: e.SMTP_FROM,
      };
}

function hubspotConfig(e: Env, mode: CrmMode): AppConfig['hubspot'] {
  return {
    mode,
    apiBaseUrl: e.HUBSPOT_API_BASE_URL.replace(/\/+$/, ''),
    accessToken: e.HUBSPOT_ACCESS_TOKEN,
    clientId: e.HUBSPOT_CLIENT_ID,
    clientSecret: e.HUBSPOT_CLIENT_SECRET,
    // The real consent page lives on app.hubspot.com; any other API base (a sandbox) serves its own.
    authorizeUrl: (
      e.HUBSPOT_AUTHORIZE_URL ??
      (new URL(e.HUBSPOT_API_BASE_URL).hostname === 'api.hubapi.com'
        ? 'https://app.hubspot.com/oauth/authorize'
        : `${e.HUBSPOT_API_BASE_URL.replace(/\/+$/, '')}/oauth/authorize`)
    ).replace(/\/+$/, ''),
  };
}

function salesforceConfig(e: Env, mode: CrmMode): AppConfig['salesforce'] {
  return {
    mode,
    loginUrl: e.SALESFORCE_LOGIN_URL.replace(/\/+$/, ''),
    instanceUrl: e.SALESFORCE_INSTANCE_URL?.replace(/\/+$/, ''),
    accessToken: e.SALESFORCE_ACCESS_TOKEN,
    refreshToken: e.SALESFORCE_REFRESH_TOKEN,
    clientId: e.SALESFORCE_CLIENT_ID,
    clientSecret: e.SALESFORCE_CLIENT_SECRET,
    apiVersion: e.SALESFORCE_API_VERSION,
    orgId: e.SALESFORCE_ORG_ID,
    pubsubEndpoint: e.SALESFORCE_PUBSUB_ENDPOINT,
  };
}

function sandboxConfig(e: Env): AppConfig['sandbox'] {
  return {
    persist: e.SANDBOX_PERSIST,
    hubspot: {
      port: e.SANDBOX_HUBSPOT_PORT,
      portalId: e.SANDBOX_HUBSPOT_PORTAL_ID,
      privateAppToken: e.SANDBOX_HUBSPOT_TOKEN,
      clientId: e.SANDBOX_HUBSPOT_CLIENT_ID,
      clientSecret: e.SANDBOX_HUBSPOT_CLIENT_SECRET,
      appId: e.SANDBOX_HUBSPOT_APP_ID,
      developerKey: e.SANDBOX_HUBSPOT_DEV_KEY,
      burstLimit: e.SANDBOX_HUBSPOT_BURST_LIMIT,
    },
    salesforce: {
      port: e.SANDBOX_SALESFORCE_PORT,
      pubsubPort: e.SANDBOX_SALESFORCE_PUBSUB_PORT ?? (e.SANDBOX_SALESFORCE_PORT === 0 ? 0 : e.SANDBOX_SALESFORCE_PORT + 1),
      orgId: e.SANDBOX_SALESFORCE_ORG_ID,
      username: e.SANDBOX_SALESFORCE_USERNAME,
      password: e.SANDBOX_SALESFORCE_PASSWORD,
      clientId: e.SANDBOX_SALESFORCE_CLIENT_ID,
      clientSecret: e.SANDBOX_SALESFORCE_CLIENT_SECRET,
    },
  };
}
