/** A breached SLA clock and its escalation, as the store holds them: what alert tests build alerts from. */
import type { SlaClockRecord, SlaEscalationRecord } from '../../src/store/sla.ts';

export const ALERT_SECRET = 'a-shared-secret-of-some-length';

export const BREACHED_CLOCK: SlaClockRecord = {
  id: 7,
  installationId: 'inst-1',
  leadId: '00Q000000000001AAA',
  contactId: '101',
  handoffAt: new Date('2026-03-02T09:00:00Z'),
  dueAt: new Date('2026-03-02T13:00:00Z'),
  status: 'breached',
  firstTouchAt: null,
  firstTouchSource: null,
  breachedAt: new Date('2026-03-02T13:00:01Z'),
  escalatedAt: null,
  closedAt: null,
  scheduleN: 1,
  ownerId: '005000000000004AAA',
  ownerName: 'Alex Rivera',
  managerId: '005000000000003AAA',
  team: 'Sales',
  leadSource: 'Web',
  channel: 'Paid Search',
  campaign: 'Spring',
};

/** The clock's escalation; `leadUrl` is the Lead's link in the org (null when unknown). */
export function escalationOf(leadUrl: string | null): SlaEscalationRecord {
  return {
    id: 3,
    clockId: 7,
    installationId: 'inst-1',
    jobId: 'sla-inst-1-00Q000000000001AAA-1',
    breachedAt: new Date('2026-03-02T13:00:01Z'),
    details: { leadName: 'Ada Lovelace', leadUrl, ownerName: 'Alex Rivera', managerName: 'Morgan Lee' },
    taskIds: ['00T1', '00T2'],
    tasksCreatedAt: new Date(),
    stampedAt: new Date(),
    alertEnqueuedAt: new Date(),
    alertDeliveredAt: null,
    completedAt: null,
  };
}
