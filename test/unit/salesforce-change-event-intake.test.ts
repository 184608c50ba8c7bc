/**
 * How change events become the intake's jobs (webhooks/salesforce/change-events.ts), without a
 * server: one job per record under an id named by the commit, the app's echoes dropped, gap events
 * re-read, deletions and overflows left to the reconciler. The feed setting's rules too.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeEventMessage, RecordChange, RecordsToReread } from '../../src/crm/salesforce/pubsub/change-events.ts';
import { pulls, validateChangeFeed } from '../../src/domain/change-feed.ts';
import { describeSalesforceFeedChange } from '../../src/domain/salesforce-feed.ts';
import { changeEventJobId, planChangeEvents } from '../../webhooks/salesforce/change-events.ts';

const SOURCE = { installationId: 'inst-1', organizationId: '00D000000000001AAA', channel: '/data/LeadChangeEvent' };
const LEAD = '00Q000000000001AAA';
const REP = '005000000000002AAA';
const COMMITTED = Date.UTC(2026, 11, 4, 12, 0, 0);

function change(overrides: Partial<RecordChange> = {}): RecordChange {
  return {
    kind: 'change',
    replayId: Buffer.from([0, 0, 0, 1]),
    eventId: 'e-1',
    entityName: 'Lead',
    recordIds: [LEAD],
    transactionKey: 'tx-1',
    sequenceNumber: 1,
    commitTimestamp: COMMITTED,
    commitUser: REP,
    changeType: 'UPDATE',
    originClient: undefined,
    echo: false,
    changedFields: ['Status', 'LastModifiedDate'],
    nulledFields: ['Title'],
    diffFields: [],
    fields: { Status: 'Working - Contacted', LastModifiedDate: COMMITTED, NumberOfEmployees: 40, IsConverted: false },
    ...overrides,
  };
}

function gap(changeType: RecordsToReread['changeType'], recordIds = [LEAD]): RecordsToReread {
  const {
    kind: _kind,
    changeType: _type,
    originClient: _o,
    echo: _e,
    changedFields: _c,
    nulledFields: _n,
    diffFields: _d,
    fields: _f,
    ...common
  } = change();
  return { ...common, kind: 'reread', changeType, recordIds };
}

describe('change events as intake jobs', () => {
  it('makes one job per changed record, with the record as an Outbound Message notification carries it', () => {
    const plan = planChangeEvents(SOURCE, [change()], 1_000);
    expect(plan.echoes).toEqual([]);
    expect(plan.reconcile).toEqual([]);
    expect(plan.jobs).toEqual([
      {
        jobId: changeEventJobId('inst-1', LEAD, change()),
        payload: {
          v: 1,
          installationId: 'inst-1',
          receivedAt: 1_000,
          organizationId: SOURCE.organizationId,
          actionId: '/data/LeadChangeEvent',
          notification: {
            id: 'e-1',
            sObjectType: 'Lead',
            fields: {
              Id: LEAD,
              Status: 'Working - Contacted',
              NumberOfEmployees: '40',
              IsConverted: 'false',
              Title: null,
              LastModifiedById: REP,
              LastModifiedDate: '2026-12-04T12:00:00.000Z',
            },
          },
        },
      },
    ]);
  });

  it('names a job by record and commit, so the same event handed over again is the same job', () => {
    const again = change({ replayId: Buffer.from([9]), eventId: 'e-other' });
    expect(changeEventJobId('inst-1', LEAD, again)).toBe(changeEventJobId('inst-1', LEAD, change()));
    expect(changeEventJobId('inst-1', LEAD, change({ sequenceNumber: 2 }))).not.toBe(changeEventJobId('inst-1', LEAD, change()));
    expect(changeEventJobId('inst-2', LEAD, change())).not.toBe(changeEventJobId('inst-1', LEAD, change()));
    expect(changeEventJobId('inst-1', LEAD, change())).not.toContain(':');
  });

  it('drops a change the app wrote itself', () => {
    const echo = change({ echo: true, originClient: 'SmarketingSync' });
    const plan = planChangeEvents(SOURCE, [echo], 1_000);
    expect(plan).toEqual({ jobs: [], echoes: [echo], reconcile: [] });
  });

  it('re-reads each record of a gap event through a job without field data', () => {
    const other = '00Q000000000002AAA';
    const plan = planChangeEvents(SOURCE, [gap('GAP_UPDATE', [LEAD, other])], 1_000);
    expect(plan.jobs.map((job) => job.payload.notification.fields)).toEqual([
      { Id: LEAD, LastModifiedById: REP, LastModifiedDate: '2026-12-04T12:00:00.000Z' },
      { Id: other, LastModifiedById: REP, LastModifiedDate: '2026-12-04T12:00:00.000Z' },
    ]);
    expect(plan.reconcile).toEqual([]);
  });

  it('asks the reconciler for deletions, undeletions and overflows', () => {
    const events: ChangeEventMessage[] = [
      change({ changeType: 'DELETE', fields: {} }),
      change({ changeType: 'UNDELETE' }),
      gap('GAP_OVERFLOW', []),
      gap('GAP_DELETE'),
    ];
    const plan = planChangeEvents(SOURCE, events, 1_000);
    expect(plan.jobs).toEqual([]);
    expect(plan.reconcile).toEqual(['DELETE of Lead', 'UNDELETE of Lead', 'GAP_OVERFLOW of Lead', 'GAP_DELETE of Lead']);
  });
});

describe('the Salesforce feed setting', () => {
  it('defaults to push and pulls in pull and both', () => {
    expect(validateChangeFeed({})).toEqual({ ok: true, value: { mode: 'push' } });
    expect(pulls('push')).toBe(false);
    expect(pulls('pull')).toBe(true);
    expect(pulls('both')).toBe(true);
  });

  it('refuses an unknown mode or key, naming it', () => {
    const refused = validateChangeFeed({ mode: 'poll' });
    expect(refused.ok).toBe(false);
    expect(refused.ok ? [] : refused.error[0]).toMatch(/^mode: /);
    expect(validateChangeFeed({ mode: 'pull', extra: 1 }).ok).toBe(false);
  });

  it('says what switching to pull and back changes', () => {
    expect(describeSalesforceFeedChange({ mode: 'push' }, { mode: 'push' })).toEqual([]);
    expect(describeSalesforceFeedChange({ mode: 'push' }, { mode: 'pull' })).toHaveLength(2);
    expect(describeSalesforceFeedChange({ mode: 'both' }, { mode: 'push' })[1]).toMatch(/stops following/);
    expect(describeSalesforceFeedChange({ mode: 'pull' }, { mode: 'both' })).toHaveLength(1);
  });
});
