import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.ts';
import type { MarketingHubTier } from './campaigns.ts';
import { CrmService } from './crm-service.ts';
import { FaultController } from './faults.ts';
import { Journal } from './journal.ts';
import { StatePersistence, loadSnapshot } from './persistence.ts';
import { portalDispatcher, type Portal } from './portals.ts';
import { RateLimiter } from './rate-limit.ts';
import { resolveConfig, type SandboxConfig } from './sandbox-config.ts';
import type { HubSpotSandboxOptions } from './sandbox-config.ts';
import { PrivateApps } from './auth.ts';
import { createControl } from './sandbox-control.ts';
import type { SandboxControl, SandboxResetOptions } from './sandbox-control.ts';
import { CallStats } from './stats.ts';
import { SandboxStore } from './store.ts';
import { WebhookDispatcher } from './webhook-delivery.ts';

export type { HubSpotSandboxOptions } from './sandbox-config.ts';
export type { SandboxControl, SandboxResetOptions } from './sandbox-control.ts';
export type { WebhookEvent } from './webhook-delivery.ts';

/** Another HubSpot account that installs the same public app, served by the same sandbox server. */
export interface PortalOptions {
  portalId: number;
  /** Its burst limit per 10 s (a Professional or Enterprise account has more than the default 100). */
  burstLimit?: number;
  /** Its Marketing Hub tier, default Professional. */
  tier?: MarketingHubTier;
}

/** A portal added to the server: its controls and the token of the app's private app in it. */
export interface AddedPortal extends SandboxControl {
  portalId: number;
  privateAppToken: string;
}

/** A running sandbox HubSpot: its base URL (the client's `basePath`), lifecycle and test handles. */
export interface HubSpotSandbox extends SandboxControl {
  /** e.g. `http://127.0.0.1:4101`. */
  url: string;
  /** Stops the HTTP server and pending deliveries, flushes state. */
  close(): Promise<void>;
  /** Empties all data (keeps config). */
  reset(options?: SandboxResetOptions): Promise<void>;
  /**
   * Adds another account (in memory only) on the same host, as real HubSpot serves every account on
   * `api.hubapi.com`: the app's webhook configuration and journal are shared, its records, OAuth
   * grants, private apps and rate limits its own. Throws when the portal id is taken.
   */
  addPortal(options: PortalOptions): AddedPortal;
  /** The controls of an added portal (or the first one). */
  portal(portalId: number): AddedPortal | undefined;
}

/** Everything one account holds and answers; the journal (and the store's webhook registration) is the app's, shared by its portals. */
function createPortal(config: SandboxConfig, store: SandboxStore, persistence: StatePersistence | undefined, journal: Journal): Portal {
  const faults = new FaultController();
  const dispatcher = new WebhookDispatcher(store, config, faults);
  // The journal records what the webhooks would carry, and is muted with them (a bulk import).
  const crm = new CrmService(store, config, (event) => {
    dispatcher.handle(event);
    if (!dispatcher.isMuted()) journal.handle(event, config.portalId);
  });
  const stats = new CallStats();
  const limiter = new RateLimiter(config);
  const privateApps = new PrivateApps(config);
  const control = createControl({ store, crm, config, faults, dispatcher, journal, stats, limiter, persistence, privateApps });
  const handler = buildApp({ config, store, crm, faults, journal, limiter, stats, control, persistence, privateApps });
  return {
    portalId: config.portalId,
    privateAppToken: config.privateAppToken,
    handler,
    control,
    store,
    privateApps,
    close: () => dispatcher.close(),
  };
}

/** Starts a local HubSpot that the unmodified `@hubspot/api-client` can talk to over HTTP. */
export async function startHubSpotSandbox(options: HubSpotSandboxOptions): Promise<HubSpotSandbox> {
  const config = resolveConfig(options);
  const store = new SandboxStore();
  if (config.stateFile !== undefined) {
    const snapshot = await loadSnapshot(config.stateFile);
    if (snapshot !== undefined) store.restore(snapshot);
  }
  const persistence = config.stateFile === undefined ? undefined : new StatePersistence(config.stateFile, store, config.logger);
  const journal = new Journal(config);
  const primary = createPortal(config, store, persistence, journal);
  const portals = new Map<number, Portal>([[primary.portalId, primary]]);
  const added = (portal: Portal): AddedPortal => ({
    ...portal.control,
    portalId: portal.portalId,
    privateAppToken: portal.privateAppToken,
  });

  const addPortal = (input: PortalOptions): AddedPortal => {
    if (!Number.isInteger(input.portalId) || input.portalId <= 0)
      throw new Error(`portal id must be a positive integer, got ${input.portalId}`);
    if (portals.has(input.portalId)) throw new Error(`portal ${input.portalId} already exists`);
    const portalConfig: SandboxConfig = {
      ...config,
      portalId: input.portalId,
      privateAppToken: `pat-${input.portalId}-${config.appId}-sandbox`,
      stateFile: undefined,
      rateLimit: { ...config.rateLimit, requests: input.burstLimit ?? config.rateLimit.requests },
    };
    const portal = createPortal(portalConfig, new SandboxStore(store.webhooks), undefined, journal);
    if (input.tier !== undefined) portal.control.setMarketingHubTier(input.tier);
    portals.set(portal.portalId, portal);
    journal.addPortal(portal.portalId);
    return added(portal);
  };

  const server = createServer(portalDispatcher(portals, primary));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  config.logger.info({ url, portalId: config.portalId, stateFile: config.stateFile ?? null }, 'hubspot sandbox listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const portal of portals.values()) portal.close();
      journal.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (persistence !== undefined) await persistence.close();
    })();
    return closing;
  };

  return {
    ...primary.control,
    url,
    close,
    addPortal,
    portal: (portalId) => {
      const portal = portals.get(portalId);
      return portal === undefined ? undefined : added(portal);
    },
  };
}
