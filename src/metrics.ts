/**
 * Prometheus metrics (prom-client), one registry per app instance so tests stay isolated. Series
 * that name an installation live in a second registry, served only to callers holding
 * METRICS_TOKEN; the public registry carries their totals by source.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  /** What /metrics shows anyone it answers: nothing names an installation. */
  registry: Registry;
  /** Per-installation series, shown only with METRICS_TOKEN. */
  installationRegistry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  jobDuration: Histogram<'queue' | 'outcome'>;
  queueJobs: Gauge<'queue' | 'state'>;
  webhookAccepted: Counter<'source' | 'installation'>;
  webhookRefused: Counter<'source' | 'reason'>;
  reconcileCaught: Counter<'stream'>;
}

/** Creates the registry and every metric the app exposes on /metrics. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  const installationRegistry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const webhookAccepted = new Counter({
    name: 'webhook_events_accepted_total',
    help: 'Webhook events accepted and enqueued, by source and installation',
    labelNames: ['source', 'installation'],
    registers: [installationRegistry],
  });
  new Counter({
    name: 'webhook_events_accepted_by_source_total',
    help: 'Webhook events accepted and enqueued, by source (all installations)',
    labelNames: ['source'],
    registers: [registry],
    // Summed from the per-installation counter when scraped, so producers count once.
    async collect() {
      this.reset();
      for (const { labels, value } of (await webhookAccepted.get()).values) this.inc({ source: String(labels.source) }, value);
    },
  });
  return {
    registry,
    installationRegistry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'job_duration_seconds',
      help: 'Time a worker spent on one job, by queue and outcome',
      labelNames: ['queue', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: 'queue_jobs',
      help: 'Jobs per queue and state (waiting, active, delayed, failed, completed)',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
    webhookAccepted,
    reconcileCaught: new Counter({
      name: 'reconcile_caught_total',
      help: 'Changes the reconciler found that no webhook had delivered, by stream',
      labelNames: ['stream'],
      registers: [registry],
    }),
    webhookRefused: new Counter({
      name: 'webhook_requests_refused_total',
      help: 'Webhook requests refused, by source and reason',
      labelNames: ['source', 'reason'],
      registers: [registry],
    }),
  };
}
