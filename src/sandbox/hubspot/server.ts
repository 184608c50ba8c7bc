import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.ts';
import { CrmService } from './crm-service.ts';
import { FaultController } from './faults.ts';
import { Journal } from './journal.ts';
import { StatePersistence, loadSnapshot } from './persistence.ts';
import { RateLimiter } from './rate-limit.ts';
import { resolveConfig } from './sandbox-config.ts';
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

/** A running sandbox HubSpot: its base URL (the client's `basePath`), lifecycle and test handles. */
export interface HubSpotSandbox extends SandboxControl {
  /** e.g. `http://127.0.0.1:4101`. */
  url: string;
  /** Stops the HTTP server and pending deliveries, flushes state. */
  close(): Promise<void>;
  /** Empties all data (keeps config). */
  reset(options?: SandboxResetOptions): Promise<void>;
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
  const faults = new FaultController();
  const dispatcher = new WebhookDispatcher(store, config, faults);
  // The journal records what the webhooks would carry, and is muted with them (a bulk import).
  const journal = new Journal(config, () => dispatcher.isMuted());
  const crm = new CrmService(store, config, (event) => {
    dispatcher.handle(event);
    journal.handle(event);
  });
  const stats = new CallStats();
  const limiter = new RateLimiter(config);
  const privateApps = new PrivateApps(config);
  const control = createControl({ store, crm, config, faults, dispatcher, journal, stats, limiter, persistence, privateApps });
  const app = buildApp({ config, store, crm, faults, journal, limiter, stats, control, persistence, privateApps });

  const server = createServer(app);
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
      dispatcher.close();
      journal.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (persistence !== undefined) await persistence.close();
    })();
    return closing;
  };

  return { ...control, url, close };
}
