/**
 * The check of an installation's marketing commitments: paces each one in the current period and
 * sends the signed alert of each one at risk or behind to the installation's alert target — once
 * per commitment and period. The record comes first (commitment_alerts), then a lease on it, then
 * the POST: a restart, a second worker or the next check finds it delivered (or claimed) and sends
 * nothing; a delivery to retry releases the lease for the job's next attempt.
 */
import { needsAlert, type PacingStatus } from '../domain/commitments.ts';
import { assertNever } from '../domain/result.ts';
import type { Producer } from '../queue/producer.ts';
import type { Queryable } from '../store/db.ts';
import {
  claimCommitmentAlerts,
  commitmentsReport,
  marketingCommitmentsOf,
  raiseCommitmentAlert,
  settleCommitmentAlert,
  type CommitmentStatus,
} from '../store/commitments.ts';
import { writeSyncLog } from '../store/sync-log.ts';
import { buildCommitmentAlert, sendAlert, type AlertTarget } from './alerts.ts';
import type { OutboundPolicy } from './outbound-http.ts';

/** How often each installation's commitments are checked. */
export const COMMITMENT_CHECK_EVERY_MS = 60 * 60_000;

/** Creates or updates the installation's commitments check scheduler (one per installation, shared by all workers). */
export async function scheduleCommitmentChecks(
  producer: Producer,
  installationId: string,
  everyMs = COMMITMENT_CHECK_EVERY_MS,
): Promise<void> {
  await producer
    .queue('commitmentChecks')
    .upsertJobScheduler(`commitments-${installationId}`, { every: everyMs }, { name: 'commitment-check', data: { v: 1, installationId } });
}

/** How long a check holds a raised alert while it posts it. */
const CLAIM_LEASE_MS = 2 * 60_000;

export interface CommitmentCheckDeps {
  db: Queryable;
  /** The installation's alert target (null: none set) or why it cannot be read. */
  alertTarget(installationId: string): Promise<{ target: AlertTarget | null; problem: string | null }>;
  outbound: OutboundPolicy;
  now?: () => Date;
}

/** What one check did: alerts it took to deliver (`raised`), delivered, given up, and deliveries to retry. */
export interface CommitmentCheckOutcome {
  periodId: string | null;
  raised: number;
  delivered: number;
  failed: number;
  retry: string[];
}

const alerting = (row: CommitmentStatus): row is CommitmentStatus & { status: Extract<PacingStatus, 'at_risk' | 'behind'> } =>
  needsAlert(row.status);

/** Paces an installation's commitments now and delivers the alerts not yet delivered for this period. */
export async function checkCommitments(deps: CommitmentCheckDeps, installationId: string): Promise<CommitmentCheckOutcome> {
  const now = deps.now?.() ?? new Date();
  const commitments = await marketingCommitmentsOf(deps.db, installationId);
  const report = commitments.commitments.length === 0 ? null : await commitmentsReport(deps.db, { installationId, commitments, now });
  const outcome: CommitmentCheckOutcome = { periodId: report?.period.id ?? null, raised: 0, delivered: 0, failed: 0, retry: [] };
  if (report === null) return outcome;
  const periodId = report.period.id;

  // 1. Record each commitment that fell to at risk or behind (the first record of the period stands).
  for (const row of report.commitments.filter(alerting)) await raiseCommitmentAlert(deps.db, installationId, periodId, row, now);

  // 2. Take the ones not delivered yet; another check holding them keeps them.
  const claimed = await claimCommitmentAlerts(deps.db, installationId, periodId, now, CLAIM_LEASE_MS);
  if (claimed.length === 0) return outcome;
  outcome.raised = claimed.length;
  const entry = { installationId, recordRef: `installation:${installationId}` };
  const { target, problem } = await deps.alertTarget(installationId);

  // 3. Post each, and settle it.
  for (const row of claimed) {
    const { details } = row;
    const summary = `Marketing commitment ${details.metric}${details.channel === null ? '' : ` (${details.channel})`} ${row.status.replace('_', ' ')} in ${periodId}: ${details.delivered} delivered, ${details.expectedToDate} expected by now, forecast ${details.forecast} of ${details.target}`;
    if (target === null) {
      const reason = problem === null ? 'no alert target is set' : `the alert target cannot be read: ${problem}`;
      await settleCommitmentAlert(deps.db, installationId, row, { kind: 'failed', reason });
      await writeSyncLog(deps.db, [
        {
          ...entry,
          level: problem === null ? 'warn' : 'error',
          action: `commitment_${row.status}`,
          reason: `${summary}; alert not sent: ${reason}`,
        },
      ]);
      outcome.failed += 1;
      continue;
    }
    const alert = buildCommitmentAlert({
      installationId,
      periodId,
      key: row.commitmentKey,
      metric: details.metric,
      channel: details.channel,
      status: row.status,
      target: details.target,
      delivered: details.delivered,
      expectedToDate: details.expectedToDate,
      forecast: details.forecast,
      raisedAt: row.raisedAt,
    });
    const delivery = await sendAlert(target, alert, { policy: deps.outbound });
    switch (delivery.kind) {
      case 'delivered':
        await settleCommitmentAlert(deps.db, installationId, row, { kind: 'delivered', at: now });
        await writeSyncLog(deps.db, [
          { ...entry, level: 'warn', action: `commitment_${row.status}`, reason: `${summary}; alert delivered` },
        ]);
        outcome.delivered += 1;
        break;
      case 'refused':
        await settleCommitmentAlert(deps.db, installationId, row, { kind: 'failed', reason: delivery.reason });
        await writeSyncLog(deps.db, [
          {
            ...entry,
            level: 'error',
            action: 'commitment_alert_failed',
            reason: `${summary}; alert refused, not retried: ${delivery.reason}`,
          },
        ]);
        outcome.failed += 1;
        break;
      case 'retry':
        await settleCommitmentAlert(deps.db, installationId, row, { kind: 'released' });
        outcome.retry.push(delivery.reason);
        break;
      default:
        assertNever(delivery);
    }
  }
  return outcome;
}
