/**
 * The sandbox org's Pub/Sub API as one piece for server.ts: the change event bus fed by the org's
 * commits, the gRPC service on its own port, the change-origin capture for the HTTP APIs, and the
 * fault knobs under `/__sandbox/pubsub/faults`.
 */
import type { Express } from 'express';
import { httpError } from '../errors.ts';
import type { SandboxConfig } from '../sandbox-config.ts';
import type { OrgStore } from '../state-store.ts';
import type { TokenService } from '../tokens.ts';
import { ChangeEventBus, pubSubFaultSchema, type PubSubFaults } from './event-bus.ts';
import { PubSubService } from './service.ts';

import { captureChangeOrigin } from './origin.ts';

export interface SandboxPubSub {
  faults: { get(): PubSubFaults; set(input: unknown): PubSubFaults; clear(): void };
  /** Starts the bus and the gRPC server on the configured port; resolves its `host:port`. */
  start(): Promise<string>;
  close(): Promise<void>;
}

export function createSandboxPubSub(deps: {
  store: OrgStore;
  config: SandboxConfig;
  tokens: TokenService;
  url: () => string;
}): SandboxPubSub {
  const bus = new ChangeEventBus(deps.store, deps.config);
  const service = new PubSubService({ bus, tokens: deps.tokens, config: deps.config, url: deps.url });
  return {
    faults: {
      get: () => bus.faults,
      set: (input) => {
        const parsed = pubSubFaultSchema.safeParse(input ?? {});
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw httpError(400, 'INVALID_INPUT', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
        }
        bus.faults = parsed.data;
        return bus.faults;
      },
      clear: () => {
        bus.faults = {};
      },
    },
    start: async () => {
      bus.start();
      const { host } = deps.config;
      return `${host.includes(':') ? `[${host}]` : host}:${await service.listen(deps.config.pubsubPort)}`;
    },
    close: () => service.close(),
  };
}

/**
 * The change-origin capture in front of the API routes, and `GET/POST/DELETE /__sandbox/pubsub/faults`
 * (registered after the loopback gate of the other controls).
 */
export function registerPubSubRoutes(app: Express, pubsub: SandboxPubSub): void {
  app.use(captureChangeOrigin);
  app.get('/__sandbox/pubsub/faults', (_req, res) => {
    res.json(pubsub.faults.get());
  });
  app.post('/__sandbox/pubsub/faults', (req, res) => {
    res.json(pubsub.faults.set(req.body));
  });
  app.delete('/__sandbox/pubsub/faults', (_req, res) => {
    pubsub.faults.clear();
    res.status(204).end();
  });
}
