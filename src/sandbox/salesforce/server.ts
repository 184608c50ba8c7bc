/**
 * The sandbox Salesforce org: one HTTP server that is both login URL and instance URL, speaking
 * enough of OAuth, REST, SOAP and the Tooling API for the unmodified `jsforce` client, plus
 * Outbound Messages to the app's receiver and `/__sandbox/*` controls.
 */
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { registerCompositeRequestRoute } from './composite-request.ts';
import { registerCollectionRoutes } from './composite-routes.ts';
import { faultGate, restApiGate, restErrorHandler, type SandboxContext } from './context.ts';
import { SandboxControl, type AssignmentSettings, type SandboxStats, type SandboxUser } from './control.ts';
import type { CurrencySettings, CurrencySettingsInput } from './currency-admin.ts';
import { notFound } from './errors.ts';
import { FaultInjector, type FaultConfig, type FaultConfigInput } from './faults.ts';
import { ApiUsage, CallStats } from './limits.ts';
import { registerOAuthRoutes } from './oauth.ts';
import { createSandboxPubSub, registerPubSubRoutes, type SandboxPubSub } from './pubsub/pubsub-api.ts';
import { OutboundMessages } from './outbound-messages.ts';
import type { DeliveryLogEntry, OutboundRule, OutboundRuleInput, PendingNotification } from './outbound-rules.ts';
import { QueryCursors } from './query-cursors.ts';
import { registerQueryRoutes } from './query-routes.ts';
import { API, registerRestRoutes } from './rest-routes.ts';
import { resolveConfig, type SalesforceSandboxOptions } from './sandbox-config.ts';
import { registerSandboxRoutes } from './sandbox-routes.ts';
import { ADMIN_USER_ID, INTEGRATION_USER_ID, SALES_REP_IDS } from './seed.ts';
import { fault, registerSoapRoutes } from './soap.ts';
import { OrgStore } from './state-store.ts';
import { TokenService, type TokenResponse } from './tokens.ts';
import { registerToolingRoutes } from './tooling.ts';

export type { SalesforceSandboxOptions } from './sandbox-config.ts';
export type { SandboxStats, SandboxUser, AssignmentSettings } from './control.ts';
export type { CurrencySettings, CurrencySettingsInput } from './currency-admin.ts';
export type { FaultConfig, FaultConfigInput } from './faults.ts';
export type { OutboundRule, OutboundRuleInput, DeliveryLogEntry, PendingNotification } from './outbound-rules.ts';
export type { TokenResponse } from './tokens.ts';

export interface SalesforceSandbox {
  /** Both login URL and instance URL, e.g. http://127.0.0.1:4102. */
  url: string;
  /** The Pub/Sub API (gRPC, plaintext) endpoint, e.g. 127.0.0.1:4103, and its fault knobs (`/__sandbox/pubsub/faults`). */
  pubsub: { endpoint: string; faults: SandboxPubSub['faults'] };
  /** The User id stamped as LastModifiedById on writes made with the connected app's tokens. */
  integrationUserId: string;
  adminUserId: string;
  /** The seeded sales reps (one of them inactive); round-robin lead assignment draws from the active ones. */
  salesRepIds: readonly string[];
  close(): Promise<void>;
  reset(): Promise<void>;
  /** Mirrors `GET /__sandbox/stats`. */
  stats(): SandboxStats;
  /** Mirrors `/__sandbox/faults`. */
  faults: { get(): FaultConfig; set(config: FaultConfigInput): FaultConfig; clear(): void };
  /** Mirrors `/__sandbox/outbound-messages` and `/__sandbox/outbound-deliveries`. */
  outbound: {
    rules(): OutboundRule[];
    addRule(input: OutboundRuleInput): OutboundRule;
    removeRule(id: string): boolean;
    clearRules(): void;
    deliveries(): DeliveryLogEntry[];
    pending(): PendingNotification[];
    retryNow(): number;
  };
  /** Mirrors `GET /__sandbox/users`. */
  users(): SandboxUser[];
  /** Mirrors `POST /__sandbox/users/:id/token`: act as that user (e.g. a sales rep). */
  issueUserToken(userId: string): TokenResponse;
  /** Mirrors `POST /__sandbox/sessions/expire`. */
  expireSessions(userId?: string): number;
  /** Mirrors `POST /__sandbox/api-usage`. */
  setApiUsage(used: number): void;
  /**
   * Mirrors `GET/POST /__sandbox/currency`: the org's currency setting (single-currency by default)
   * and its CurrencyType rates. `set({ multiCurrency: true, currencies: [{ isoCode: 'EUR', conversionRate: 0.9 }] })`
   * turns multi-currency on (for good, until a reset) and adds or updates rates.
   */
  currency: { get(): CurrencySettings; set(input: CurrencySettingsInput): CurrencySettings };
  /**
   * Mirrors `GET /__sandbox/field-history/{object}` and `POST /__sandbox/field-history`
   * `{"object":"Lead","fields":["Title"]}`: the fields whose history is tracked (Set History
   * Tracking in Setup); their later changes add `LeadHistory` / `ContactHistory` rows.
   */
  fieldHistory: { get(object: string): readonly string[]; set(object: string, fields: readonly string[]): string[] };
  /** Mirrors `GET/POST /__sandbox/assignment`. */
  assignment(): AssignmentSettings;
  setAssignment(settings: { active: boolean; userIds?: string[] | null }): AssignmentSettings;
}

/** Counts each call under its route pattern, with the sObject type filled in. */
function countCalls(ctx: SandboxContext) {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.on('finish', () => {
      if (req.path.startsWith('/__sandbox')) return;
      const route = (req.route as { path?: string | string[] } | undefined)?.path;
      // req.params is gone when an error handler answered, so the type comes from the path.
      const rawType = /\/sobjects\/([^/]+)/.exec(req.path)?.[1];
      const type = rawType === undefined ? undefined : (ctx.store.schema.object(rawType)?.name ?? rawType);
      const pattern =
        route === undefined
          ? req.path.replace(/\/v\d{2}\.0(?=\/|$)/, '/:version').replace(/\/[A-Za-z0-9]{15,18}(?=\/|$)/g, '/:id')
          : (Array.isArray(route) ? (route[0] ?? '') : route).replace(':type', type ?? ':type');
      const soap = (res.locals as { soapOperation?: unknown }).soapOperation;
      ctx.stats.count(`${req.method} ${pattern}${typeof soap === 'string' ? ` ${soap}` : ''}`);
    });
    next();
  };
}

/** Starts the sandbox org and resolves once it listens. */
/** A close that runs once, however often it is called. */
function closeOnce(run: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= run());
}

export async function startSalesforceSandbox(options: SalesforceSandboxOptions): Promise<SalesforceSandbox> {
  const config = resolveConfig(options);
  const store = new OrgStore({ stateFile: config.stateFile, adminUsername: config.username, now: config.now, logger: config.logger });
  let baseUrl = '';
  const ctx: SandboxContext = {
    config,
    store,
    tokens: new TokenService(store, config, () => baseUrl),
    usage: new ApiUsage(store, config),
    faults: new FaultInjector(),
    stats: new CallStats(),
    cursors: new QueryCursors(config.now),
    url: () => baseUrl,
  };
  const outbound = new OutboundMessages({ store, config, faults: ctx.faults, tokens: ctx.tokens, url: () => baseUrl });
  const control = new SandboxControl(ctx, outbound);
  const pubsub = createSandboxPubSub({ store, config, tokens: ctx.tokens, url: () => baseUrl });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(countCalls(ctx));
  app.use(faultGate(ctx, (res, code, message) => fault(res, 500, code, message)));
  registerSandboxRoutes(app, control);
  registerPubSubRoutes(app, pubsub);
  registerOAuthRoutes(app, ctx);
  registerSoapRoutes(app, ctx);
  app.use(API, express.json({ limit: '50mb', type: ['application/json', 'application/*+json'] }), restApiGate(ctx));
  registerRestRoutes(app, ctx);
  registerCollectionRoutes(app, ctx);
  registerCompositeRequestRoute(app, ctx);
  registerQueryRoutes(app, ctx);
  registerToolingRoutes(app, ctx);
  app.use((_req: Request, _res: Response, next: NextFunction) => next(notFound()));
  app.use(restErrorHandler(ctx));

  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  outbound.start();
  const pubsubEndpoint = await pubsub.start();
  config.logger.info({ url: baseUrl, orgId: config.orgId }, 'salesforce sandbox listening');

  const close = closeOnce(async () => {
    await Promise.all([outbound.close(), pubsub.close()]);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    store.flush();
  });

  return {
    url: baseUrl,
    pubsub: { endpoint: pubsubEndpoint, faults: pubsub.faults },
    integrationUserId: INTEGRATION_USER_ID,
    adminUserId: ADMIN_USER_ID,
    salesRepIds: SALES_REP_IDS,
    close,
    reset: () => control.reset(),
    stats: () => control.stats(),
    faults: control.faults,
    outbound: control.outbound,
    currency: control.currency,
    fieldHistory: control.fieldHistory,
    users: () => control.users(),
    issueUserToken: (userId) => control.issueUserToken(userId),
    expireSessions: (userId) => control.expireSessions(userId),
    setApiUsage: (used) => control.setApiUsage(used),
    assignment: () => control.assignment(),
    setAssignment: (settings) => control.setAssignment(settings),
  };
}
