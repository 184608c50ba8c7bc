/**
 * The follow-up SLA end to end: the app against both sandboxes on PostgreSQL, with the
 * installation's SLA policy in its settings row, the app's SLA clock in the test's hands (moved
 * past a due time, whose delayed check then runs at once, rather than waited for), and a local
 * HTTP receiver as the alert target (it checks the HMAC signature itself). Then the compliance
 * figures, on both database backends, from clock rows with known times.
 */
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, type Db } from '../../src/store/db.ts';
import { upsertInstallation } from '../../src/store/installations.ts';
import { migrate } from '../../src/store/migrate.ts';
import { closeSlaClock, insertSlaClocks, slaCompliance, stopSlaClock, type NewSlaClock } from '../../src/store/sla.ts';
import { SlaScheduler, slaJobId } from '../../src/sync/sla-scheduler.ts';
import type { QueueKey } from '../../src/queue/catalog.ts';
import { eventually, eventuallyValue } from '../support/app-process.ts';
import { MovableClock } from '../support/clock.ts';
import { BACKENDS, freshPostgresUrl, openTestDb } from '../support/db.ts';
import { startSyncHarness, untilAppIdle, type SyncHarness } from '../support/sync-harness.ts';

/** An hour: a rep touches the Lead in time; the test moves the app's SLA clock past it to breach one. */
const SLA_HOURS = 1;
/** The policy the reschedule test changes to: its due times lie past every due time the clock was moved beyond. */
const LATER_SLA_HOURS = 4;
const ALERT_SECRET = 'alert-secret-for-the-sla-test';

interface AlertRequest {
  status: number;
  delivery: string | undefined;
  signature: string | undefined;
  raw: Buffer;
}

interface ClockRow extends Record<string, unknown> {
  id: number;
  schedule_n: number;
  handoff_at: Date;
  due_at: Date;
  status: string;
  first_touch_source: string | null;
  owner_id: string | null;
  team: string | null;
}

describe('follow-up SLA', () => {
  let h: SyncHarness;
  let installationId: string;
  let alertServer: ReturnType<express.Express['listen']>;
  const alerts: AlertRequest[] = [];
  const slaClock = new MovableClock();

  beforeAll(async () => {
    // The alert target: refuses the first attempt of each delivery (503), so retries show.
    const receiver = express();
    receiver.post('/hooks/sla', express.raw({ type: '*/*' }), (req, res) => {
      const delivery = req.header('x-smarketing-delivery');
      const status = alerts.some((alert) => alert.delivery === delivery) ? 200 : 503;
      alerts.push({ status, delivery, signature: req.header('x-smarketing-signature'), raw: req.body as Buffer });
      res.status(status).end();
    });
    alertServer = receiver.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => alertServer.once('listening', () => resolve()));
    const alertUrl = `http://127.0.0.1:${(alertServer.address() as AddressInfo).port}/hooks/sla`;

    // The installation exists before boot, with its settings (as an admin would have saved them).
    const databaseUrl = freshPostgresUrl();
    const db = connectPostgres(databaseUrl, 2);
    try {
      await migrate(db);
      const installation = await upsertInstallation(db, {
        name: 'Sandbox',
        hubspotPortalId: '1000001',
        salesforceOrgId: '00D000000000001AAA',
      });
      installationId = installation.id;
      await db.query('UPDATE installations SET settings = $2::jsonb WHERE id = $1', [
        installationId,
        JSON.stringify({ slaPolicy: { hours: SLA_HOURS }, alert: { url: alertUrl, secret: ALERT_SECRET } }),
      ]);
    } finally {
      await db.close();
    }
    h = await startSyncHarness({ DATABASE_URL: databaseUrl, OUTBOUND_ALLOW_PRIVATE: '127.0.0.1/32' }, { slaClock: slaClock.now });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await new Promise((resolve) => alertServer?.close(resolve));
  });

  async function slaOf(contactId: string): Promise<Record<string, string | null>> {
    return (await h.hubspot.crm.contacts.basicApi.getById(contactId, ['sales_sla_status', 'sales_sla_due_at', 'sales_first_touch_at']))
      .properties;
  }

  async function leadSla(leadId: string): Promise<{ SLA_Status__c: string | null; SLA_Due_At__c: string | null }> {
    const rows = (
      await h.rep.query<{ SLA_Status__c: string | null; SLA_Due_At__c: string | null }>(
        `SELECT SLA_Status__c, SLA_Due_At__c FROM Lead WHERE Id = '${leadId}'`,
      )
    ).records;
    return rows[0] ?? { SLA_Status__c: null, SLA_Due_At__c: null };
  }

  async function escalationTasks(leadId: string): Promise<{ Id: string; OwnerId: string; Subject: string }[]> {
    return (
      await h.rep.query<{ Id: string; OwnerId: string; Subject: string }>(
        `SELECT Id, OwnerId, Subject FROM Task WHERE WhoId = '${leadId}' AND CreatedById = '${h.salesforceSandbox.integrationUserId}'`,
      )
    ).records;
  }

  /**
   * The clock of a Lead just handed off: the handoff's own writes carry the `pending` stamp to both
   * CRMs, and its clock row is saved once they return, so the stamp can be seen a moment before it.
   */
  async function startedClockOf(leadId: string): Promise<ClockRow> {
    await eventually(
      async () => (await h.app.db.query('SELECT 1 FROM sla_clocks WHERE salesforce_lead_id = $1', [leadId])).length > 0,
      10_000,
      `the clock of Lead ${leadId}`,
    );
    return clockOf(leadId);
  }

  async function clockOf(leadId: string): Promise<ClockRow> {
    const rows = await h.app.db.query<ClockRow>(
      'SELECT id, schedule_n, handoff_at, due_at, status, first_touch_source, owner_id, team FROM sla_clocks WHERE salesforce_lead_id = $1',
      [leadId],
    );
    if (rows.length !== 1) throw new Error(`expected one clock for Lead ${leadId}, found ${rows.length}`);
    return rows[0] as ClockRow;
  }

  function alertsFor(
    leadId: string,
  ): (AlertRequest & { body: { lead: { id: string }; event: string; owner: { name: string | null }; salesforceTaskIds: string[] } })[] {
    return alerts
      .map((alert) => ({
        ...alert,
        body: JSON.parse(alert.raw.toString('utf8')) as {
          lead: { id: string };
          event: string;
          owner: { name: string | null };
          salesforceTaskIds: string[];
        },
      }))
      .filter((alert) => alert.body.lead.id === leadId);
  }

  async function syncLogCount(leadId: string, action: string): Promise<number> {
    const rows = await h.app.db.query<{ n: number }>('SELECT count(*) AS n FROM sync_log WHERE record_ref = $1 AND action = $2', [
      `salesforce:Lead:${leadId}`,
      action,
    ]);
    return rows[0]?.n ?? 0;
  }

  async function jobState(jobId: string): Promise<string> {
    return (await (await h.app.producer.queue('slaClocks').getJob(jobId))?.getState()) ?? 'missing';
  }

  /** Runs a delayed job now (BullMQ counts its delay on the wall clock, which the test does not move). */
  async function promote(
    queue: QueueKey,
    match: (job: { id?: string | undefined; data: unknown }) => boolean,
    what: string,
  ): Promise<void> {
    const job = await eventuallyValue(
      async () => (await h.app.producer.queue(queue).getJobs(['delayed'])).find(match),
      20_000,
      `${what} delayed`,
      100,
    );
    await job.promote();
  }

  /** Moves the app's SLA clock a second past `dueAt` and runs the delayed due check `jobId` then, to its end. */
  async function dueCheckAfter(dueAt: Date, jobId: string): Promise<void> {
    slaClock.advanceTo(new Date(dueAt.getTime() + 1_000));
    await promote('slaClocks', (job) => job.id === jobId, `the due check ${jobId}`);
    await eventually(async () => (await jobState(jobId)) === 'completed', 20_000, `the due check ${jobId} completed`);
  }

  /** The alert of a Lead's escalation, refused once, is retried now rather than after its backoff. */
  async function retryAlertNow(leadId: string): Promise<void> {
    await eventually(async () => alertsFor(leadId).some((alert) => alert.status === 503), 20_000, 'the first alert attempt');
    const [escalation] = await h.app.db.query<{ id: number }>(
      'SELECT e.id FROM sla_escalations e JOIN sla_clocks c ON c.id = e.clock_id WHERE c.salesforce_lead_id = $1',
      [leadId],
    );
    await promote('slaAlerts', (job) => (job.data as { escalationId?: number }).escalationId === escalation?.id, 'the alert retry');
  }

  /**
   * Polls a CRM once a second: the tests below run side by side and share the sandboxes' rate
   * limits with the app, so each reads at a fifth of the usual pace.
   */
  const eventuallyInCrm = (probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> =>
    eventually(probe, timeoutMs, what, 1_000);

  const managerId = (): string => h.salesforceSandbox.users().find((user) => user.role === 'sales-manager')?.id ?? '';

  // The clocks of these run side by side (each moves the SLA clock past its own due time: never
  // back, so none undoes another's move); the policy change below runs after them, alone, as it
  // moves every pending clock.

  it.concurrent('starts the clock at handoff: pending and the due time on both sides', async ({ expect }) => {
    const { contactId, lead } = await h.handOff();
    await eventuallyInCrm(async () => (await slaOf(contactId)).sales_sla_status === 'pending', 10_000, 'pending in HubSpot');
    const clock = await startedClockOf(lead.Id);
    expect(clock.due_at.getTime() - clock.handoff_at.getTime()).toBe(Math.round(SLA_HOURS * 3_600_000));
    expect(new Date((await slaOf(contactId)).sales_sla_due_at ?? '').getTime()).toBe(clock.due_at.getTime());
    const stamped = await leadSla(lead.Id);
    expect(stamped.SLA_Status__c).toBe('pending');
    expect(new Date(stamped.SLA_Due_At__c ?? '').getTime()).toBe(clock.due_at.getTime());
  });

  it.concurrent(
    'escalates an untouched Lead past due once: Tasks for the owner and the manager, breached on both sides, one signed alert',
    async ({ expect }) => {
      const { contactId, lead } = await h.handOff();
      const started = await startedClockOf(lead.Id);
      await dueCheckAfter(started.due_at, slaJobId(installationId, lead.Id, started.schedule_n));
      await eventuallyInCrm(async () => (await slaOf(contactId)).sales_sla_status === 'breached', 30_000, 'breached in HubSpot');
      expect((await leadSla(lead.Id)).SLA_Status__c).toBe('breached');

      const tasks = await escalationTasks(lead.Id);
      expect(tasks.map((task) => task.OwnerId).sort()).toEqual([lead.OwnerId, managerId()].sort());
      expect(tasks.every((task) => task.Subject.startsWith('SLA breached'))).toBe(true);

      // The first attempt was refused (503) and retried: one alert delivered, signed over its bytes.
      await retryAlertNow(lead.Id);
      await eventually(async () => alertsFor(lead.Id).some((alert) => alert.status === 200), 20_000, 'the alert delivered');
      const sent = alertsFor(lead.Id);
      expect(sent.map((alert) => alert.status)).toEqual([503, 200]);
      expect(new Set(sent.map((alert) => alert.delivery)).size).toBe(1);
      for (const alert of sent) {
        expect(alert.signature).toBe(`sha256=${createHmac('sha256', ALERT_SECRET).update(alert.raw).digest('hex')}`);
      }
      const [delivered] = sent.filter((alert) => alert.status === 200);
      expect(delivered?.body.event).toBe('sla.breached');
      expect(delivered?.body.salesforceTaskIds.sort()).toEqual(tasks.map((task) => task.Id).sort());
      expect(delivered?.body.owner.name).toBe(h.salesforceSandbox.users().find((user) => user.id === lead.OwnerId)?.name);

      await eventually(async () => (await syncLogCount(lead.Id, 'sla_alert_delivered')) === 1, 10_000, 'the delivery in the sync log');
      expect(await syncLogCount(lead.Id, 'sla_breached')).toBe(1);
      const clock = await clockOf(lead.Id);
      expect(clock).toMatchObject({ status: 'breached', owner_id: lead.OwnerId, team: 'Sales' });
    },
  );

  it.concurrent('escalates once when the handoff event comes twice and the due check runs again after a restart', async ({ expect }) => {
    h.hubspotSandbox.setFaults({ webhooks: { duplicate: {} } });
    let lead: { Id: string };
    let contactId: string;
    try {
      ({ lead, contactId } = await h.handOff());
      await eventually(
        async () => h.hubspotSandbox.deliveries().some((d) => d.duplicateOf !== undefined && d.state === 'delivered'),
        10_000,
        'a duplicate delivery',
      );
    } finally {
      h.hubspotSandbox.clearFaults();
    }
    const started = await startedClockOf(lead.Id);
    const jobId = slaJobId(installationId, lead.Id, started.schedule_n);
    await dueCheckAfter(started.due_at, jobId);
    await eventuallyInCrm(async () => (await slaOf(contactId)).sales_sla_status === 'breached', 30_000, 'breached in HubSpot');
    await retryAlertNow(lead.Id);
    await eventually(async () => alertsFor(lead.Id).some((alert) => alert.status === 200), 20_000, 'the alert delivered');
    const clock = await clockOf(lead.Id);

    // A restart that lost Redis: the due check is enqueued again under its own id, a due check
    // of another id names the same clock, and the boot-time reschedule runs.
    const queue = h.app.producer.queue('slaClocks');
    await queue.remove(jobId);
    const payload = { v: 1 as const, kind: 'due' as const, installationId, clockId: clock.id, scheduleN: clock.schedule_n };
    await h.app.producer.enqueue('slaClocks', [
      { jobId, payload },
      { jobId: `${jobId}-replayed`, payload },
    ]);
    await new SlaScheduler(h.app.producer).requestReschedule(installationId);
    await eventually(
      async () => (await jobState(jobId)) === 'completed' && (await jobState(`${jobId}-replayed`)) === 'completed',
      10_000,
      'the repeated due checks',
    );

    expect(await escalationTasks(lead.Id)).toHaveLength(2);
    expect(alertsFor(lead.Id).filter((alert) => alert.status === 200)).toHaveLength(1);
    expect(await syncLogCount(lead.Id, 'sla_breached')).toBe(1);
    const escalations = await h.app.db.query<{ n: number }>('SELECT count(*) AS n FROM sla_escalations WHERE clock_id = $1', [clock.id]);
    expect(escalations[0]?.n).toBe(1);
  });

  it.concurrent(
    'meets the SLA when a rep works the Lead in time: met and the first touch on both sides, no escalation',
    async ({ expect }) => {
      const { contactId, lead } = await h.handOff();
      // The rep works the Lead once its clock runs: a touch in the moment between the Lead's
      // creation and its clock's start is found by the due check instead (at the due time).
      await startedClockOf(lead.Id);
      await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
      let sla: Record<string, string | null> = {};
      await eventuallyInCrm(
        async () => {
          sla = await slaOf(contactId);
          return sla.sales_sla_status === 'met';
        },
        10_000,
        'met in HubSpot',
      );
      const clock = await clockOf(lead.Id);
      expect(Date.parse(sla.sales_first_touch_at ?? '')).toBeLessThanOrEqual(clock.due_at.getTime());
      expect(clock).toMatchObject({ status: 'met', first_touch_source: 'status' });
      await eventuallyInCrm(async () => (await leadSla(lead.Id)).SLA_Status__c === 'met', 10_000, 'met in Salesforce');

      // The due check still fires at the due time, finds the clock stopped and escalates nothing.
      await dueCheckAfter(clock.due_at, slaJobId(installationId, lead.Id, clock.schedule_n));
      expect(await escalationTasks(lead.Id)).toHaveLength(0);
      expect(alertsFor(lead.Id)).toHaveLength(0);
      expect((await slaOf(contactId)).sales_sla_status).toBe('met');
    },
  );

  it.concurrent('stops the clock at a Task a rep logs on the Lead', async ({ expect }) => {
    const { contactId, lead } = await h.handOff();
    await startedClockOf(lead.Id);
    await h.rep.sobject('Task').create({ WhoId: lead.Id, Subject: 'Intro call', Status: 'Completed', TaskSubtype: 'Call' });
    await eventuallyInCrm(async () => (await slaOf(contactId)).sales_sla_status === 'met', 10_000, 'met in HubSpot');
    expect(await clockOf(lead.Id)).toMatchObject({ status: 'met', first_touch_source: 'Task' });
    expect((await h.leadsFor(`Id = '${lead.Id}'`))[0]?.Status).toBe('Open - Not Contacted');
  });

  it('moves an alert target saved in the settings into the encrypted vault at boot', async () => {
    const row = (
      await h.app.db.query<{ settings: Record<string, unknown>; sealed: Uint8Array | null }>(
        'SELECT settings, alert_target AS sealed FROM installations WHERE id = $1',
        [installationId],
      )
    )[0];
    expect(row?.settings).not.toHaveProperty('alert');
    expect(row?.settings).toHaveProperty('slaPolicy');
    expect(row?.sealed).not.toBeNull();
    expect(Buffer.from(row?.sealed ?? new Uint8Array()).toString('latin1')).not.toContain(ALERT_SECRET);
  });

  it('reschedules a running clock from its handoff when the policy changes, and the old due check escalates nothing', async () => {
    const { contactId, lead } = await h.handOff();
    await eventuallyInCrm(async () => (await slaOf(contactId)).sales_sla_status === 'pending', 10_000, 'pending in HubSpot');
    const before = await startedClockOf(lead.Id);
    await h.app.db.query("UPDATE installations SET settings = jsonb_set(settings, '{slaPolicy}', $2::jsonb) WHERE id = $1", [
      installationId,
      JSON.stringify({ hours: LATER_SLA_HOURS }),
    ]);
    await new SlaScheduler(h.app.producer).requestReschedule(installationId);

    const due = before.handoff_at.getTime() + LATER_SLA_HOURS * 3_600_000;
    await eventuallyInCrm(
      async () => Date.parse((await slaOf(contactId)).sales_sla_due_at ?? '') === due,
      10_000,
      'the new due time in HubSpot',
    );
    expect(Date.parse((await leadSla(lead.Id)).SLA_Due_At__c ?? '')).toBe(due);
    const after = await clockOf(lead.Id);
    expect(after.schedule_n).toBe(before.schedule_n + 1);
    expect(await jobState(slaJobId(installationId, lead.Id, after.schedule_n))).toBe('delayed');

    // The first schedule's due check fires at the old time and finds itself stale.
    await dueCheckAfter(before.due_at, slaJobId(installationId, lead.Id, before.schedule_n));
    expect((await clockOf(lead.Id)).status).toBe('pending');
    expect(await escalationTasks(lead.Id)).toHaveLength(0);
  });

  it('still stamps the first touch in HubSpot when the contact update that carried it fails', async () => {
    const { contactId, lead } = await h.handOff();
    await eventuallyInCrm(async () => (await slaOf(contactId)).sales_sla_status === 'pending', 10_000, 'pending in HubSpot');
    await startedClockOf(lead.Id);
    // The sales-progress update (which carries the first-touch stamp) fails once; the clock has stopped by then.
    h.hubspotSandbox.setFaults({ http: [{ method: 'POST', path: '/crm/v3/objects/contacts/batch/update', status: 502, count: 1 }] });
    try {
      await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
      await eventuallyInCrm(async () => (await slaOf(contactId)).sales_sla_status === 'met', 20_000, 'met in HubSpot');
    } finally {
      h.hubspotSandbox.clearFaults();
    }
    expect(h.hubspotSandbox.stats().totals.faultsInjected).toBeGreaterThanOrEqual(1);
    expect(await clockOf(lead.Id)).toMatchObject({ status: 'met' });
  });

  it('stops the clock of a Lead a rep worked before the handoff had started its clock', async () => {
    const contactId = h.newContact();
    await untilAppIdle(h);
    // The handoff writes the Lead, then stamps the contact, then starts the clock: the stamp is
    // held 4 s, long enough for a rep to work the Lead while no clock runs.
    h.hubspotSandbox.setFaults({ http: [{ method: 'POST', path: '/crm/v3/objects/contacts/batch/update', delayMs: 4_000, count: 1 }] });
    try {
      h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
      const lead = await eventuallyValue(
        async () => (await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`))[0],
        20_000,
        'the Lead of the handoff',
      );
      await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
      expect(await h.app.db.query('SELECT 1 FROM sla_clocks WHERE salesforce_lead_id = $1', [lead.Id])).toHaveLength(0);

      const stopped = await eventuallyValue(
        async () => {
          const [row] = await h.app.db.query<ClockRow>('SELECT status, first_touch_source FROM sla_clocks WHERE salesforce_lead_id = $1', [
            lead.Id,
          ]);
          return row?.status === 'pending' ? undefined : row;
        },
        20_000,
        'the clock stopped',
      );
      expect(stopped).toMatchObject({ status: 'met', first_touch_source: 'status' });
      await eventuallyInCrm(async () => (await slaOf(contactId)).sales_sla_status === 'met', 10_000, 'met in HubSpot');
      expect((await leadSla(lead.Id)).SLA_Status__c).toBe('met');
    } finally {
      h.hubspotSandbox.clearFaults();
    }
  });
});

describe.each(BACKENDS)('SLA compliance figures on %s', (backend) => {
  let db: Db;
  const installation = 'inst-compliance';
  const hour = 3_600_000;
  const at = (hours: number): Date => new Date(Date.UTC(2026, 2, 2, 9) + hours * hour);

  beforeAll(async () => {
    db = await openTestDb(backend);
    await migrate(db);
    await db.query("INSERT INTO installations (id, name, salesforce_webhook_token) VALUES ($1, 'Compliance', 'token-compliance')", [
      installation,
    ]);
    const clock = (
      lead: string,
      handoff: number,
      owner: [string, string],
      team: string,
      channel: string | null,
      campaign: string | null,
    ): NewSlaClock => ({
      installationId: installation,
      leadId: lead,
      contactId: null,
      handoffAt: at(handoff),
      dueAt: at(handoff + 4),
      ownerId: owner[0],
      ownerName: owner[1],
      managerId: null,
      team,
      leadSource: null,
      channel,
      campaign,
    });
    const ada: [string, string] = ['005A', 'Ada Rep'];
    const bob: [string, string] = ['005B', 'Bob Rep'];
    const started = await insertSlaClocks(db, [
      clock('00Q1', 0, ada, 'Inbound', 'Paid Search', 'Spring'),
      clock('00Q2', 0, ada, 'Inbound', 'Paid Search', 'Spring'),
      clock('00Q3', 0, ada, 'Inbound', 'Email', null),
      clock('00Q4', 0, bob, 'Outbound', 'Email', null),
      clock('00Q5', 9, bob, 'Outbound', 'Paid Search', 'Spring'),
      clock('00Q6', 0, bob, 'Outbound', null, null),
      clock('00Q7', 48, bob, 'Outbound', 'Email', null),
      clock('00Q8', 0, ada, 'Inbound', 'Email', null),
    ]);
    const touch = async (lead: string, hours: number | null): Promise<void> => {
      const row = started.find((clock) => clock.leadId === lead);
      if (!row || hours === null) return;
      const touchAt = at(hours);
      await stopSlaClock(db, row.id, { at: touchAt, source: 'status', status: touchAt <= row.dueAt ? 'met' : 'breached' });
    };
    // 00Q1 within (1 h), 00Q2 late (5 h), 00Q3 untouched past due, 00Q4 exactly at due (4 h),
    // 00Q5 untouched and not due at "now", 00Q6 within (2 h), 00Q7 outside the period, 00Q8 a
    // Lead deleted before anyone touched it (left out: it cannot be judged).
    await closeSlaClock(db, started.find((clock) => clock.leadId === '00Q8')?.id ?? 0, at(3));
    await touch('00Q1', 1);
    await touch('00Q2', 5);
    await touch('00Q4', 4);
    await touch('00Q6', 2);
  });

  afterAll(async () => {
    await db?.close();
  });

  const period = { from: at(-1), to: at(24), now: at(10) };

  it('counts handoffs, touches within SLA, breaches and the median minutes to first touch in total and per owner', async () => {
    expect(await db.query('SELECT 1 FROM sla_clocks WHERE salesforce_lead_id = $1 AND closed_at IS NOT NULL', ['00Q8'])).toHaveLength(1);
    const { total, groups } = await slaCompliance(db, installation, { ...period, groupBy: 'owner' });
    expect(total).toEqual({
      group: '(all)',
      label: '(all)',
      handedOff: 6,
      touchedWithinSla: 3,
      breached: 2,
      pending: 1,
      medianMinutesToFirstTouch: 180,
      complianceRate: 0.6,
    });
    expect(groups).toEqual([
      {
        group: '005A',
        label: 'Ada Rep',
        handedOff: 3,
        touchedWithinSla: 1,
        breached: 2,
        pending: 0,
        medianMinutesToFirstTouch: 180,
        complianceRate: 1 / 3,
      },
      {
        group: '005B',
        label: 'Bob Rep',
        handedOff: 3,
        touchedWithinSla: 2,
        breached: 0,
        pending: 1,
        medianMinutesToFirstTouch: 180,
        complianceRate: 1,
      },
    ]);
  });

  it('groups by team, channel and campaign, naming unknown values (none)', async () => {
    const byTeam = await slaCompliance(db, installation, { ...period, groupBy: 'team' });
    expect(byTeam.groups.map((group) => [group.group, group.handedOff])).toEqual([
      ['Inbound', 3],
      ['Outbound', 3],
    ]);
    const byChannel = await slaCompliance(db, installation, { ...period, groupBy: 'channel' });
    expect(byChannel.groups.map((group) => [group.group, group.handedOff, group.touchedWithinSla, group.breached])).toEqual([
      ['(none)', 1, 1, 0],
      ['Email', 2, 1, 1],
      ['Paid Search', 3, 1, 1],
    ]);
    const byCampaign = await slaCompliance(db, installation, { ...period, groupBy: 'campaign' });
    expect(byCampaign.groups.map((group) => [group.group, group.handedOff, group.medianMinutesToFirstTouch])).toEqual([
      ['(none)', 3, 180],
      ['Spring', 3, 180],
    ]);
  });

  it('reports an empty period without dividing by zero', async () => {
    const { total, groups } = await slaCompliance(db, installation, { from: at(100), to: at(200), now: at(300), groupBy: 'team' });
    expect(total).toEqual({
      group: '(all)',
      label: '(all)',
      handedOff: 0,
      touchedWithinSla: 0,
      breached: 0,
      pending: 0,
      medianMinutesToFirstTouch: null,
      complianceRate: null,
    });
    expect(groups).toEqual([]);
  });
});
