/** The reconcile worker: one pass over HubSpot contacts, Salesforce Leads, Opportunities and Contacts, and Campaign costs. */
import { watchedContactProperties, watchedContactRecordFields } from '../src/sync/mapped-fields.ts';
import type { Logger } from '../src/log.ts';
import type { ProcessorsOf } from '../src/queue/worker-runner.ts';
import type { InstallationClients } from '../src/runtime/installation-clients.ts';
import type { Metrics } from '../src/metrics.ts';
import type { Queryable } from '../src/store/db.ts';
import { disconnectedSides } from '../src/store/sync-controls.ts';
import { applySalesforceDeletions, relinkUndeletedRecords } from '../src/sync/deletions.ts';
import type { IdentityContext } from '../src/sync/merges.ts';
import { reconcileCampaignCosts, reconcileHubSpot, reconcileSalesforce, reconcileSalesforceDeletions } from '../src/sync/reconcile.ts';
import type { ValueLedger } from '../src/sync/value-ledger.ts';
import type { SyncScheduler } from '../src/sync/scheduler.ts';
import { crmRetryDecision } from './crm-retry-policy.ts';

export interface ReconcileWorkerDeps {
  db: Queryable;
  clients: InstallationClients;
  scheduler: SyncScheduler;
  metrics: Metrics;
  log: Logger;
  lookbackMs: number;
  /** Remembers the app's own stamps after a merge (echo detection). */
  ledger: ValueLedger;
}

/** The reconcile processor for the worker pool. */
export function reconcileProcessors(deps: ReconcileWorkerDeps): ProcessorsOf<'reconcile'> {
  return {
    reconcile: async ({ installationId }) => {
      // A side an admin disconnected is not called: the pass waits, and its watermarks stay, so
      // the first pass after reconnecting looks at everything that changed meanwhile. A pause does
      // not stop it: it only reads and marks records pending, which is how a change whose webhook
      // was lost during the pause is still synced on resume.
      const disconnected = await disconnectedSides(deps.db, installationId);
      if (disconnected.hubspot !== null || disconnected.salesforce !== null) {
        deps.log.debug({ installationId, disconnected }, 'reconcile pass skipped: a side is disconnected');
        return;
      }
      const runtime = await deps.clients.forInstallation(installationId);
      const pass = {
        db: deps.db,
        installationId,
        hubspot: runtime.hubspot,
        salesforce: runtime.salesforce,
        watchedProperties: watchedContactProperties(runtime.fieldMappings),
        watchedContactFields: watchedContactRecordFields(runtime.fieldMappings),
        markPending: (direction: 'to-salesforce' | 'to-hubspot', keys: string[]) =>
          deps.scheduler.markAndSchedule(installationId, direction, keys),
        now: () => new Date(),
        lookbackMs: deps.lookbackMs,
        pageLimit: 2_000,
      };
      // Each stream on its own: one rate-limited stream ends early and keeps its watermark, so the
      // next pass (one interval later) looks at its window again, while the others still run
      // (chaos suite: a few 429s in a row failed the job).
      const identity: IdentityContext = { ...pass, ledger: deps.ledger };
      const streams = [
        () => reconcileHubSpot(pass),
        () => reconcileSalesforce(pass, 'Lead', (ids) => relinkUndeletedRecords(identity, 'Lead', ids)),
        () => reconcileSalesforce(pass, 'Opportunity'),
        // A converted person's Contact: its mapped fields and opt-out.
        () => reconcileSalesforce(pass, 'Contact', (ids) => relinkUndeletedRecords(identity, 'Contact', ids)),
        () => reconcileCampaignCosts(pass),
        // Merges and deletions: the recycle bin (no Outbound Message fires on delete).
        () => reconcileSalesforceDeletions(pass, 'Lead', (deleted) => applySalesforceDeletions(identity, 'Lead', deleted)),
        () => reconcileSalesforceDeletions(pass, 'Contact', (deleted) => applySalesforceDeletions(identity, 'Contact', deleted)),
      ];
      for (const stream of streams) {
        let result;
        try {
          result = await stream();
        } catch (error) {
          // A rate-limited stream, or one a CRM's passing failure (a 5xx, a timeout) stopped, is left
          // to the next pass, which covers its window again (its watermark stayed); anything else
          // fails the pass (chaos suite: a 502 after a Redis and a PostgreSQL restart used up its attempts).
          const decision = crmRetryDecision(error);
          const passing = decision.kind === 'delay' || (decision.kind === 'retry' && decision.system !== undefined);
          if (!passing) throw error;
          deps.log.warn(
            {
              installationId,
              system: decision.system,
              ...(decision.kind === 'delay'
                ? { retryAfterMs: decision.ms }
                : { error: error instanceof Error ? error.message : String(error) }),
            },
            'reconcile stream stopped by a rate limit or a passing CRM failure: the next pass covers its window',
          );
          continue;
        }
        if (result.caught > 0) {
          deps.metrics.reconcileCaught.inc({ stream: result.stream }, result.caught);
          deps.log.warn({ installationId, ...result }, 'reconciler caught changes no webhook delivered');
        }
      }
    },
  };
}
