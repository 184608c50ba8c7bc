/** Express app factory: health, readiness, metrics, and the routers the composition root mounts. */
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { Registry } from 'prom-client';
import { secretsEqual } from './admin/auth.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';

export interface ReadinessCheck {
  name: string;
  /** Resolves to an error message when the dependency is not usable, or null when it is. */
  check(): Promise<string | null>;
}

export interface AppDeps {
  log: Logger;
  metrics: Metrics;
  readiness: readonly ReadinessCheck[];
  /** Called before /metrics renders, to refresh gauges such as queue depth. */
  collectMetrics?: () => Promise<void>;
  /** Proxies whose X-Forwarded-For names the client (TRUST_PROXY); none: the socket's peer is the client. */
  trustProxy?: readonly string[];
  /** When set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`, with per-installation series. */
  metricsToken?: string | undefined;
  /** Routers mounted at their path, in order (webhooks, admin, api, oauth). */
  routes?: readonly { path: string; router: Router }[];
}

const READINESS_TIMEOUT_MS = 2_000;

async function runCheck(check: ReadinessCheck): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${READINESS_TIMEOUT_MS} ms`), READINESS_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check.check().catch((error: unknown) => (error instanceof Error ? error.message : String(error))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Builds the HTTP app; it does no I/O until requests arrive. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Without configured proxies an X-Forwarded-For header is the client's own word: ignored.
  app.set('trust proxy', deps.trustProxy && deps.trustProxy.length > 0 ? [...deps.trustProxy] : false);
  app.use(helmet({ contentSecurityPolicy: false }));

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      const label = route ? `${req.baseUrl}${route}` : req.baseUrl || 'unmatched';
      deps.metrics.httpDuration.observe(
        { method: req.method, route: label, status: String(res.statusCode) },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });

  app.get('/readyz', async (_req, res) => {
    const results = await Promise.all(deps.readiness.map(async (c) => ({ name: c.name, error: await runCheck(c) })));
    const failing = results.filter((r) => r.error !== null);
    const checks = Object.fromEntries(results.map((r) => [r.name, r.error === null ? 'ok' : r.error]));
    if (failing.length > 0) {
      res.status(503).json({ status: 'unavailable', failing: failing.map((r) => r.name), checks });
      return;
    }
    res.json({ status: 'ready', checks });
  });

  app.get('/metrics', metricsEndpoint(deps));

  // The dashboard is the app's front door: someone who opens the bare address lands on it.
  app.get('/', (_req, res) => {
    res.redirect(302, '/admin');
  });

  for (const { path, router } of deps.routes ?? []) app.use(path, router);

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'No such route' });
  });
  // Express recognises an error handler by its four parameters.
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status =
      typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number' ? error.status : 500;
    if (status >= 500) deps.log.error({ error: error instanceof Error ? error.message : String(error) }, 'request failed');
    res.status(status).json({
      error: status >= 500 ? 'internal_error' : 'bad_request',
      message: status >= 500 ? 'Internal error' : error instanceof Error ? error.message : 'Bad request',
    });
  });
  return app;
}

/** Prometheus metrics; with METRICS_TOKEN set, only for a caller who sends it (and then with per-installation series). */
function metricsEndpoint(deps: AppDeps): express.RequestHandler {
  return async (req, res) => {
    const token = deps.metricsToken;
    if (token !== undefined) {
      const match = /^Bearer\s+(.+)$/i.exec(req.get('authorization')?.trim() ?? '');
      if (!match?.[1] || !secretsEqual(match[1].trim(), token)) {
        res
          .status(401)
          .set('WWW-Authenticate', 'Bearer realm="metrics"')
          .type('text/plain')
          .send('Send METRICS_TOKEN as "Authorization: Bearer <token>".\n');
        return;
      }
    }
    try {
      await deps.collectMetrics?.();
    } catch (error) {
      deps.log.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not refresh queue metrics');
    }
    // Series naming installations only for a caller who proved the token.
    const registry =
      token === undefined ? deps.metrics.registry : Registry.merge([deps.metrics.registry, deps.metrics.installationRegistry]);
    res.type(deps.metrics.registry.contentType).send(await registry.metrics());
  };
}
