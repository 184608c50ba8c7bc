/**
 * When the SLA looks again (docs/architecture.md §5): the delayed jobs of the `slaClocks` queue —
 * a clock's due check, a follow-up rule's check, the rescheduling of an installation's clocks —
 * and the `slaAlerts` queue's alert of an escalation. The ids are deterministic per clock schedule
 * (and rule), so a repeated enqueue is a no-op; a job only says when to look, the clock's state
 * is in Postgres (src/store/sla.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Producer } from '../queue/producer.ts';
import type { SlaClockRecord } from '../store/sla.ts';

/** Enqueues the SLA jobs of the catalog's `slaClocks` and `slaAlerts` queues. */
export class SlaScheduler {
  constructor(
    private readonly producer: Producer,
    private readonly now: () => number = Date.now,
  ) {}

  /** Schedules the due check of each clock at its due time (deduplicated by schedule). */
  async scheduleDueChecks(installationId: string, clocks: readonly SlaClockRecord[]): Promise<void> {
    const now = this.now();
    await this.producer.enqueue(
      'slaClocks',
      clocks.map((clock) => ({
        jobId: slaJobId(installationId, clock.leadId, clock.scheduleN),
        payload: { v: 1 as const, kind: 'due' as const, installationId, clockId: clock.id, scheduleN: clock.scheduleN },
        delayMs: Math.max(0, clock.dueAt.getTime() - now),
      })),
    );
  }

  /**
   * Schedules the check of a clock's follow-up rule at its due instant (cadence: handoff + D days,
   * disposition: handoff + X days), deduplicated by clock schedule and rule.
   */
  async scheduleFollowUpChecks(
    installationId: string,
    checks: readonly { clockId: number; leadId: string; scheduleN: number; rule: FollowUpRule; dueAt: Date }[],
  ): Promise<void> {
    const now = this.now();
    await this.producer.enqueue(
      'slaClocks',
      checks.map((check) => ({
        jobId: followUpJobId(installationId, check.leadId, check.scheduleN, check.rule),
        payload: { v: 1 as const, kind: 'followUp' as const, installationId, clockId: check.clockId, rule: check.rule },
        delayMs: Math.max(0, check.dueAt.getTime() - now),
      })),
    );
  }

  /** Asks for the installation's running clocks to be checked against its current SLA policy. */
  async requestReschedule(installationId: string): Promise<void> {
    await this.requestReschedules([installationId]);
  }

  /** The same for several installations, in one enqueue (a worker's boot asks it for all of them). */
  async requestReschedules(installationIds: readonly string[]): Promise<void> {
    await this.producer.enqueue(
      'slaClocks',
      installationIds.map((installationId) => ({
        jobId: `sla-reschedule-${installationId}-${randomUUID()}`,
        payload: { v: 1 as const, kind: 'reschedule' as const, installationId },
      })),
    );
  }

  /** Enqueues the one alert of an escalation. */
  async enqueueAlert(installationId: string, escalationId: number): Promise<void> {
    await this.producer.enqueue('slaAlerts', [
      { jobId: `sla-alert-${installationId}-${escalationId}`, payload: { v: 1, installationId, escalationId } },
    ]);
  }
}

/** The deterministic id of a clock's due check: `sla-<installation>-<leadId>-<n>`. */
export function slaJobId(installationId: string, leadId: string, scheduleN: number): string {
  return `sla-${installationId}-${leadId}-${scheduleN}`;
}

/** A follow-up rule a delayed check decides. */
export type FollowUpRule = 'cadence' | 'disposition';

/** The deterministic id of a follow-up check: `sla-followup-<installation>-<leadId>-<n>-<rule>`. */
export function followUpJobId(installationId: string, leadId: string, scheduleN: number, rule: FollowUpRule): string {
  return `sla-followup-${installationId}-${leadId}-${scheduleN}-${rule}`;
}
