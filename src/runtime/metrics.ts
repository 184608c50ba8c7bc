/** Prometheus metrics (prom-client), one registry per app instance so tests stay isolated. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
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
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return {
    registry,
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
    webhookAccepted: new Counter({
      name: 'webhook_events_accepted_total',
      help: 'Webhook events accepted and enqueued, by source and installation',
      labelNames: ['source', 'installation'],
      registers: [registry],
    }),
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
