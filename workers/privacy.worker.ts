/** The privacy worker: one GDPR erasure per job (src/sync/privacy.ts). */
import type { Logger } from '../src/log.ts';
import type { ProcessorsOf } from '../src/queue/worker-runner.ts';
import type { InstallationClients } from '../src/runtime/installation-clients.ts';
import type { Db } from '../src/store/db.ts';
import { erasePerson } from '../src/sync/privacy.ts';
import type { ValueLedger } from '../src/sync/value-ledger.ts';
import { crmRetryDecision } from './crm-retry-policy.ts';

export interface PrivacyWorkerDeps {
  db: Db;
  ledger: ValueLedger;
  /** Absent when no CRM can be reached by this deployment: only the app's copy is erased. */
  clients?: InstallationClients;
  log: Logger;
}

/** The privacy processor for the worker pool. */
export function privacyProcessors(deps: PrivacyWorkerDeps): ProcessorsOf<'privacyErasures'> {
  return {
    privacyErasures: async ({ installationId, hubspotContactId, requestedAt }) => {
      // A Salesforce that cannot be reached now fails the job (retried for about a day): erasing
      // the app's copy first would forget which Salesforce records hold the person.
      let salesforce = null;
      if (deps.clients) {
        try {
          salesforce = (await deps.clients.forInstallation(installationId)).salesforce;
        } catch (error) {
          if (crmRetryDecision(error).kind !== 'disconnected') throw error;
          deps.log.warn({ installationId }, "privacy erasure: Salesforce is not connected, only the app's copy is erased");
        }
      }
      const outcome = await erasePerson(
        { db: deps.db, ledger: deps.ledger, salesforce },
        installationId,
        hubspotContactId,
        new Date(requestedAt),
      );
      deps.log.info({ installationId, outcome: outcome.kind }, 'privacy erasure');
    },
  };
}
