/**
 * SLA clocks after a policy change or a restart (docs/architecture.md §5): each pending clock is
 * checked against the current policy; a changed due time moves it to its next schedule (stamped on
 * both records, the old due check then finds itself stale), an unchanged one has its due check
 * enqueued again (a recovery when Redis lost it).
 */
import { recomputeOnPolicyChange } from '../domain/sla.ts';
import { pendingClocks, rescheduleSlaClock, type SlaClockRecord } from '../store/sla.ts';
import { salesforceRef } from './context.ts';
import { Log, type ClockContext } from './sla-context.ts';
import { stampPending } from './sla-stamps.ts';

/**
 * Checks every pending clock against the current policy: a changed due time reschedules it
 * (next schedule number, stamped on both sides; the old job then finds itself stale), an
 * unchanged one has its due check enqueued again (a no-op while the job exists, a recovery
 * when Redis lost it).
 */
export async function rescheduleClocks(ctx: ClockContext): Promise<{ rescheduled: number; checked: number }> {
  const log = new Log(ctx);
  const clocks = await pendingClocks(ctx.db, ctx.installationId);
  const nowMs = ctx.now().getTime();
  const schedule: SlaClockRecord[] = [];
  const moved: SlaClockRecord[] = [];
  for (const clock of clocks) {
    const recomputed = recomputeOnPolicyChange(
      ctx.policy,
      {
        handoffAtMs: clock.handoffAt.getTime(),
        dueAtMs: clock.dueAt.getTime(),
        firstTouchAtMs: null,
        context: { team: clock.team, leadSource: clock.leadSource },
      },
      nowMs,
    );
    if (recomputed.kind === 'unchanged') {
      schedule.push(clock);
      continue;
    }
    const rescheduled = await rescheduleSlaClock(ctx.db, clock.id, clock.scheduleN, new Date(recomputed.dueAtMs));
    if (!rescheduled) continue;
    schedule.push(rescheduled);
    moved.push(rescheduled);
    log.add(
      salesforceRef('Lead', clock.leadId),
      'info',
      'sla_rescheduled',
      `the SLA policy changed: first touch now due by ${rescheduled.dueAt.toISOString()} (was ${clock.dueAt.toISOString()})`,
      { clock: clock.id, schedule: rescheduled.scheduleN },
    );
  }
  await ctx.scheduler.scheduleDueChecks(ctx.installationId, schedule);
  await stampPending(ctx, moved, log, (error) => `the new due time was not stamped (${error.message})`);
  await log.flush();
  return { rescheduled: moved.length, checked: clocks.length };
}
