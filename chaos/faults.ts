/**
 * The fault schedule of a run: the sandboxes' own knobs (429 storms, 5xx, session and lock errors,
 * dropped / duplicated / reordered / delayed webhooks and Outbound Messages), slow responses (the
 * latency proxies) and process faults (a worker SIGKILLed mid-batch, the app's workers stopped
 * for a while and started again, Redis killed and restarted from its AOF, PostgreSQL restarted).
 * Times are offsets from the workload's start.
 */
import type { HubSpotSandboxClient, SalesforceSandboxClient } from './crm.ts';
import type { LatencyProxy, Slowdown } from './latency-proxy.ts';

export type Form = 'short' | 'long';

/** What the fault events act on. */
export interface FaultTargets {
  hubspot: HubSpotSandboxClient;
  salesforce: SalesforceSandboxClient;
  proxies: LatencyProxy[];
  /** SIGKILLs a worker while a drain batch is in flight, starts a replacement; says what happened. */
  killWorkerMidBatch(): Promise<string>;
  /** SIGKILLs redis-server, keeps it down `downMs`, starts it again on the same port and AOF. */
  restartRedis(downMs: number): Promise<void>;
  /** `pg_ctl restart -m fast`. */
  restartPostgres(): Promise<void>;
  /**
   * Stops every worker process (SIGTERM, the app's clean shutdown), keeps the app down `downMs`
   * while the CRMs go on changing, then starts as many again; says what happened.
   */
  stopApp(downMs: number): Promise<string>;
}

export interface FaultEvent {
  atMs: number;
  name: string;
  run(targets: FaultTargets): Promise<string | undefined>;
}

export interface FaultLogEntry {
  atMs: number;
  name: string;
  outcome: string;
}

type HubSpotHttpFault = {
  method?: string;
  path: string;
  status: number;
  policyName?: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';
  count?: number;
  probability?: number;
};
type SalesforceEndpointFault = {
  method?: string;
  path: string;
  error: 'UNKNOWN_EXCEPTION' | 'SERVER_UNAVAILABLE' | 'REQUEST_LIMIT_EXCEEDED' | 'UNABLE_TO_LOCK_ROW' | 'INVALID_SESSION_ID';
  count?: number;
  probability?: number;
};

/** Webhook faults and a trickle of server errors that stay on for the whole workload. */
function hubspotBase(seed: number, form: Form, extra: HubSpotHttpFault[] = []) {
  const p = form === 'short' ? 1 : 1.5;
  return {
    seed,
    webhooks: {
      duplicate: { probability: 0.15 * p },
      drop: { probability: 0.04 * p },
      reorderWithin: { probability: 0.3 },
      reorderBetween: { probability: 0.2 },
      delayMs: { min: 0, max: 400 },
    },
    http: [
      ...extra,
      { path: '/crm/v3/objects/contacts/batch/**', status: 502, probability: 0.05 * p },
      { method: 'POST', path: '/crm/v3/objects/notes', status: 503, probability: 0.05 * p },
      { method: 'POST', path: '/crm/v3/objects/contacts/search', status: 429, policyName: 'SECONDLY' as const, probability: 0.1 },
    ],
  };
}

function salesforceBase(seed: number, form: Form, extra: SalesforceEndpointFault[] = [], outboundDelayMs?: number) {
  const p = form === 'short' ? 1 : 1.5;
  return {
    seed,
    outbound: {
      duplicate: { probability: 0.15 * p },
      reorder: { probability: 0.3 },
      drop: { probability: 0.04 * p },
      ...(outboundDelayMs === undefined ? {} : { delayMs: outboundDelayMs }),
    },
    endpoints: [
      ...extra,
      {
        method: 'PATCH',
        path: '/services/data/*/composite/sobjects/Lead/HubSpot_Contact_Id__c*',
        error: 'UNABLE_TO_LOCK_ROW' as const,
        probability: 0.05 * p,
      },
      { method: 'PATCH', path: '/services/data/*/composite/sobjects*', error: 'SERVER_UNAVAILABLE' as const, probability: 0.04 * p },
      { method: 'GET', path: '/services/data/*/query*', error: 'UNKNOWN_EXCEPTION' as const, probability: 0.03 * p },
    ],
  };
}

const STORM: HubSpotHttpFault[] = [{ path: '/crm/v3/**', status: 429, probability: 0.7 }];
const SLOW: Slowdown = { probability: 0.5, minMs: 200, maxMs: 2_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function knobs(
  name: string,
  atMs: number,
  seed: number,
  form: Form,
  hubspotExtra: HubSpotHttpFault[] = [],
  salesforceExtra: SalesforceEndpointFault[] = [],
  outboundDelayMs?: number,
): FaultEvent {
  return {
    atMs,
    name,
    run: async (t) => {
      await t.hubspot.setFaults(hubspotBase(seed + atMs, form, hubspotExtra));
      await t.salesforce.setFaults(salesforceBase(seed + atMs, form, salesforceExtra, outboundDelayMs));
      return undefined;
    },
  };
}

function slow(atMs: number, on: boolean): FaultEvent {
  return {
    atMs,
    name: on ? 'slow responses on (50 % of answers held 0.2–2 s)' : 'slow responses off',
    run: async (t) => {
      for (const proxy of t.proxies) proxy.setSlowdown(on ? SLOW : null);
      return undefined;
    },
  };
}

const killWorker = (atMs: number): FaultEvent => ({ atMs, name: 'worker SIGKILL mid-batch', run: (t) => t.killWorkerMidBatch() });
const restartRedis = (atMs: number, downMs: number): FaultEvent => ({
  atMs,
  name: `Redis SIGKILL, down ${downMs / 1000} s, restart from AOF`,
  run: async (t) => (await t.restartRedis(downMs), undefined),
});
const restartPostgres = (atMs: number): FaultEvent => ({
  atMs,
  name: 'PostgreSQL restart (pg_ctl restart -m fast)',
  run: async (t) => (await t.restartPostgres(), undefined),
});

/**
 * The app down while the CRMs change: the workers stopped, started again `downMs` later, resuming
 * from their stored positions (in pull mode the journal offset and the change events' replay id).
 * The web process stays up: it carries the sandbox CRMs, and in pull mode nothing reaches it.
 */
const stopApp = (atMs: number, downMs: number): FaultEvent => ({
  atMs,
  name: `the app's workers stopped for ${downMs >= 60_000 ? `${downMs / 60_000} min` : `${downMs / 1000} s`}, then started again`,
  run: (t) => t.stopApp(downMs),
});

/** The schedule of a form, fitted to a workload of `workloadMs`. */
export function faultPlan(form: Form, seed: number, workloadMs: number): FaultEvent[] {
  const at = (share: number) => Math.round(share * workloadMs);
  if (form === 'short') {
    return [
      knobs('webhook faults + 5xx trickle on both CRMs', 0, seed, form),
      killWorker(at(0.1)),
      stopApp(at(0.2), 10_000),
      knobs('HubSpot 429 storm (70 % of API calls)', at(0.3), seed, form, STORM),
      knobs('429 storm over', at(0.4), seed, form),
      restartRedis(at(0.45), 1_500),
      slow(at(0.55), true),
      restartPostgres(at(0.65)),
      slow(at(0.75), false),
    ];
  }
  // Long: every fault, several times, and the rarer ones (a Salesforce request-limit answer waits 5 min).
  return [
    knobs(
      'webhook faults + 5xx trickle on both CRMs',
      0,
      seed,
      form,
      [],
      [{ method: 'GET', path: '/services/data/*/query*', error: 'INVALID_SESSION_ID', count: 2 }],
    ),
    knobs(
      'Salesforce REQUEST_LIMIT_EXCEEDED once',
      at(0.05),
      seed,
      form,
      [],
      [
        {
          method: 'PATCH',
          path: '/services/data/*/composite/sobjects/Lead/HubSpot_Contact_Id__c*',
          error: 'REQUEST_LIMIT_EXCEEDED',
          count: 1,
        },
      ],
    ),
    knobs('HubSpot 429 storm (70 % of API calls)', at(0.1), seed, form, STORM),
    knobs('429 storm over', at(0.14), seed, form),
    killWorker(at(0.18)),
    stopApp(at(0.2), 600_000),
    restartRedis(at(0.25), 2_000),
    slow(at(0.3), true),
    restartPostgres(at(0.35)),
    slow(at(0.4), false),
    knobs('HubSpot 429 storm again, Outbound Messages delayed 1 s', at(0.45), seed, form, STORM, [], 1_000),
    knobs('storm over', at(0.5), seed, form),
    killWorker(at(0.55)),
    restartPostgres(at(0.6)),
    restartRedis(at(0.68), 3_000),
    slow(at(0.72), true),
    killWorker(at(0.78)),
    slow(at(0.85), false),
    knobs(
      'Salesforce session expiry (INVALID_SESSION_ID ×3) and row locks',
      at(0.88),
      seed,
      form,
      [],
      [{ path: '/services/data/*', error: 'INVALID_SESSION_ID', count: 3 }],
    ),
  ];
}

/** Runs the events at their times while `running()` says the workload goes on; logs each outcome. */
export async function runFaultPlan(
  plan: readonly FaultEvent[],
  targets: FaultTargets,
  startedAt: number,
  running: () => boolean,
  log: (entry: FaultLogEntry) => void,
): Promise<FaultLogEntry[]> {
  const done: FaultLogEntry[] = [];
  for (const event of [...plan].sort((a, b) => a.atMs - b.atMs)) {
    while (running() && Date.now() - startedAt < event.atMs) await sleep(Math.min(100, event.atMs - (Date.now() - startedAt)));
    if (!running()) break;
    const atMs = Date.now() - startedAt;
    let outcome: string;
    try {
      outcome = (await event.run(targets)) ?? 'done';
    } catch (error) {
      outcome = `FAILED: ${error instanceof Error ? error.message : String(error)}`;
    }
    const entry = { atMs, name: event.name, outcome };
    done.push(entry);
    log(entry);
  }
  return done;
}

/** Turns every knob off: sandboxes back to normal, no slow responses. */
export async function clearFaults(targets: Pick<FaultTargets, 'hubspot' | 'salesforce' | 'proxies'>): Promise<void> {
  await targets.hubspot.clearFaults();
  await targets.salesforce.clearFaults();
  for (const proxy of targets.proxies) proxy.setSlowdown(null);
}
