import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { recordInboundEvent } from '../../src/store/inbound-events.ts';
import { listActiveInstallations, loadCredentials, saveCredentials, upsertInstallation } from '../../src/store/installations.ts';
import { availableMigrations, migrate, pendingMigrations } from '../../src/store/migrate.ts';
import { consentMemories, rememberConsent } from '../../src/store/privacy.ts';
import { linksByHubSpotIds, saveLinks } from '../../src/store/record-links.ts';
import { insertSlaClocks, runningClocksForLeads, stopSlaClock, type NewSlaClock } from '../../src/store/sla.ts';
import { latestStages, recordStageChanges } from '../../src/store/sync-log.ts';
import { BACKENDS, openTestDb } from '../support/db.ts';

describe.each(BACKENDS)('store on %s', (backend) => {
  let db: Db | undefined;
  afterEach(async () => {
    await db?.close();
    db = undefined;
  });

  it('applies every migration once and records it', async () => {
    db = await openTestDb(backend);
    expect(await pendingMigrations(db)).toEqual(availableMigrations());
    expect(await migrate(db)).toEqual(availableMigrations());
    expect(await migrate(db)).toEqual([]);
    expect(await pendingMigrations(db)).toEqual([]);
    const recorded = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    expect(recorded.map((r) => r.name)).toEqual(availableMigrations());
  });

  it('creates one installation per portal and org and routes by them', async () => {
    db = await openTestDb(backend);
    await migrate(db);
    const first = await upsertInstallation(db, { name: 'Acme', hubspotPortalId: '1000001', salesforceOrgId: '00D000000000001AAA' });
    const again = await upsertInstallation(db, { name: 'Acme', hubspotPortalId: '1000001', salesforceOrgId: '00D000000000001AAA' });
    expect(again.id).toBe(first.id);
    expect(first.salesforceWebhookToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const listed = await listActiveInstallations(db);
    expect(listed).toHaveLength(1);
    expect(listed[0]?.hubspotPortalId).toBe('1000001');
  });

  it('stores credentials as opaque bytes', async () => {
    db = await openTestDb(backend);
    await migrate(db);
    const installation = await upsertInstallation(db, { name: 'Acme', hubspotPortalId: '42', salesforceOrgId: null });
    await saveCredentials(db, installation.id, 'hubspot', Buffer.from([1, 2, 3, 250]));
    expect(await loadCredentials(db, installation.id, 'hubspot')).toEqual(Buffer.from([1, 2, 3, 250]));
    expect(await loadCredentials(db, installation.id, 'salesforce')).toBeNull();
  });

  it('records an inbound event once, whatever the redelivery count', async () => {
    db = await openTestDb(backend);
    await migrate(db);
    const installation = await upsertInstallation(db, { name: 'Acme', hubspotPortalId: '7', salesforceOrgId: null });
    const event = {
      dedupeKey: 'hs-abc',
      installationId: installation.id,
      source: 'hubspot' as const,
      objectType: 'contact',
      objectId: '101',
      occurredAt: new Date('2026-01-01T00:00:00Z'),
      receivedAt: new Date('2026-01-01T00:00:01Z'),
      payload: { propertyName: 'lifecyclestage', propertyValue: 'marketingqualifiedlead' },
    };
    expect(await recordInboundEvent(db, event)).toBe(true);
    expect(await recordInboundEvent(db, event)).toBe(false);
    const rows = await db.query<{ n: number; occurred_at: Date }>(
      'SELECT count(*) AS n, min(occurred_at) AS occurred_at FROM inbound_events',
    );
    expect(rows[0]?.n).toBe(1);
    expect(rows[0]?.occurred_at).toEqual(new Date('2026-01-01T00:00:00Z'));
  });

  it("writes an echo's sync log line with its event, once: a redelivery logs nothing again", async () => {
    db = await openTestDb(backend);
    await migrate(db);
    const installation = await upsertInstallation(db, { name: 'Acme', hubspotPortalId: '8', salesforceOrgId: null });
    const event = {
      dedupeKey: 'sf-echo-1',
      installationId: installation.id,
      source: 'salesforce' as const,
      objectType: 'Lead',
      objectId: '00Q000000000001AAA',
      occurredAt: new Date('2026-01-01T00:00:00Z'),
      receivedAt: new Date('2026-01-01T00:00:01Z'),
      payload: { sObjectType: 'Lead' },
      ownWrite: true,
    };
    const log = [
      {
        installationId: installation.id,
        recordRef: 'salesforce:Lead:00Q000000000001AAA',
        level: 'info' as const,
        action: 'skip_echo',
        reason: "the app's own write",
        details: { stage: 'Open' },
      },
    ];
    expect(await recordInboundEvent(db, event, log)).toBe(true);
    expect(await recordInboundEvent(db, event, log)).toBe(false);
    const events = await db.query<{ n: number; own_write: boolean }>(
      'SELECT count(*)::int AS n, bool_and(own_write) AS own_write FROM inbound_events',
    );
    expect(events[0]).toEqual({ n: 1, own_write: true });
    const lines = await db.query<{ record_ref: string; action: string; level: string; details: unknown }>(
      'SELECT record_ref, action, level, details FROM sync_log',
    );
    expect(lines).toEqual([
      { record_ref: 'salesforce:Lead:00Q000000000001AAA', action: 'skip_echo', level: 'info', details: { stage: 'Open' } },
    ]);
  });

  it('rolls a transaction back when its work throws', async () => {
    db = await openTestDb(backend);
    await migrate(db);
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO installations (id, name, salesforce_webhook_token) VALUES ('x', 'X', 'tok')");
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await listActiveInstallations(db)).toEqual([]);
  });

  it("writes a batch's links, clocks, stages and consent in one statement each, with the rules of one at a time", async () => {
    db = await openTestDb(backend);
    await migrate(db);
    const id = (await upsertInstallation(db, { name: 'Batch', hubspotPortalId: '7', salesforceOrgId: null })).id;

    // Links: a null keeps the stored value; a contact named twice keeps what each one brought.
    await saveLinks(db, id, [
      { hubspotContactId: '1', email: 'A@Example.com', salesforceLeadId: '00Q1', salesforceContactId: null, salesforceOpportunityId: null },
    ]);
    await saveLinks(db, id, [
      { hubspotContactId: '1', email: null, salesforceLeadId: null, salesforceContactId: '0031', salesforceOpportunityId: null },
      { hubspotContactId: '2', email: 'b@example.com', salesforceLeadId: '00Q2', salesforceContactId: null, salesforceOpportunityId: null },
      { hubspotContactId: '2', email: null, salesforceLeadId: null, salesforceContactId: null, salesforceOpportunityId: '0062' },
    ]);
    expect(Object.fromEntries(await linksByHubSpotIds(db, id, ['1', '2']))).toEqual({
      '1': {
        hubspotContactId: '1',
        email: 'a@example.com',
        salesforceLeadId: '00Q1',
        salesforceContactId: '0031',
        salesforceOpportunityId: null,
      },
      '2': {
        hubspotContactId: '2',
        email: 'b@example.com',
        salesforceLeadId: '00Q2',
        salesforceContactId: null,
        salesforceOpportunityId: '0062',
      },
    });

    // Clocks: one per Lead while it runs, in the order asked; a stopped clock's Lead starts the next schedule.
    const clock = (leadId: string, hours: number): NewSlaClock => ({
      installationId: id,
      leadId,
      contactId: null,
      handoffAt: new Date(Date.UTC(2026, 5, 1, hours)),
      dueAt: new Date(Date.UTC(2026, 5, 1, hours + 4)),
      ownerId: null,
      ownerName: null,
      managerId: null,
      team: hours === 9 ? 'Inbound' : null,
      leadSource: null,
      channel: null,
      campaign: null,
    });
    const first = await insertSlaClocks(db, [clock('00QB', 8), clock('00QA', 9), clock('00QA', 10)]);
    expect(first.map((c) => [c.leadId, c.handoffAt.toISOString(), c.team])).toEqual([
      ['00QB', '2026-06-01T08:00:00.000Z', null],
      ['00QA', '2026-06-01T09:00:00.000Z', 'Inbound'],
    ]);
    expect(await insertSlaClocks(db, [clock('00QA', 11)])).toEqual([]);
    await stopSlaClock(db, first[1]?.id ?? 0, { at: new Date(Date.UTC(2026, 5, 1, 10)), source: 'status', status: 'met' });
    const next = await insertSlaClocks(db, [clock('00QA', 12)]);
    expect(next).toHaveLength(1);
    const schedules = await db.query<{ schedule_n: number }>(
      "SELECT schedule_n FROM sla_clocks WHERE salesforce_lead_id = '00QA' ORDER BY schedule_n",
    );
    expect(schedules.map((row) => Number(row.schedule_n))).toEqual([1, 2]);
    expect([...(await runningClocksForLeads(db, id, ['00QA', '00QB'])).keys()].sort()).toEqual(['00QA', '00QB']);

    // Stages: a repeat of the latest is skipped, also between two changes of one contact in the batch.
    const at = (minute: number) => new Date(Date.UTC(2026, 5, 1, 8, minute));
    const stage = (contact: string, name: string, minute: number) => ({
      installationId: id,
      hubspotContactId: contact,
      stage: name,
      source: 'hubspot' as const,
      occurredAt: at(minute),
    });
    await recordStageChanges(db, [stage('1', 'mql', 0), stage('2', 'mql', 0)]);
    await recordStageChanges(db, [stage('1', 'mql', 1), stage('2', 'sql', 1), stage('2', 'sql', 2), stage('3', 'mql', 2)]);
    const history = await db.query<{ hubspot_contact_id: string; stage: string }>(
      'SELECT hubspot_contact_id, stage FROM stage_history WHERE installation_id = $1 ORDER BY hubspot_contact_id, occurred_at, id',
      [id],
    );
    expect(history.map((row) => `${row.hubspot_contact_id}:${row.stage}`)).toEqual(['1:mql', '2:mql', '2:sql', '3:mql']);
    expect(Object.fromEntries(await latestStages(db, id, ['1', '2', '3']))).toEqual({ '1': 'mql', '2': 'sql', '3': 'mql' });

    // Consent: the last state of a contact wins.
    await rememberConsent(db, id, [
      { contactId: '1', memory: { hubspot: false, salesforce: false } },
      { contactId: '1', memory: { hubspot: true, salesforce: false } },
      { contactId: '2', memory: { hubspot: false, salesforce: true } },
    ]);
    expect(Object.fromEntries(await consentMemories(db, id, ['1', '2']))).toEqual({
      '1': { hubspot: true, salesforce: false },
      '2': { hubspot: false, salesforce: true },
    });
  });
});
