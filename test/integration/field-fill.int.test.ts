/**
 * Filling existing records end to end: two contacts are handed off while the job title does not
 * sync and the website is not mapped, a rep gives their Leads titles, then the admin turns both
 * mappings on and fills the linked records through the API. The contacts get the Leads' titles, the
 * Leads get the contacts' websites, the run counts what it did, and the writes' webhooks and
 * Outbound Messages come back as the app's own: no sync follows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FIELD_MAPPINGS, type FieldMapping } from '../../src/domain/stages.ts';
import { createBackfillRun } from '../../src/store/backfill-runs.ts';
import { FIELD_FILL } from '../../src/sync/field-fill.ts';
import { eventually } from '../support/app-process.ts';
import { AdminClient } from '../support/admin-harness.ts';
import { startSyncHarness, type SyncHarness, untilCrmsQuiet } from '../support/sync-harness.ts';

const ADMIN_TOKEN = 'e'.repeat(16) + '0123456789abcdef'.repeat(3);

describe('filling existing records', () => {
  let h: SyncHarness;
  let client: AdminClient;
  let installationId: string;
  const records: { contactId: string; leadId: string; title: string; website: string }[] = [];

  const quiet = () => untilCrmsQuiet(h);

  const mappingsWith = (title: FieldMapping['rule'], website?: FieldMapping['rule']): FieldMapping[] => [
    ...DEFAULT_FIELD_MAPPINGS.map((m) => (m.hubspotProperty === 'jobtitle' ? { ...m, rule: title } : m)),
    ...(website ? [{ hubspotProperty: 'website', salesforceField: 'Website', rule: website }] : []),
  ];
  const settingsPath = () => `/api/installations/${installationId}/settings/fieldMappings`;
  const contactOf = async (id: string) => (await h.hubspot.crm.contacts.basicApi.getById(id, ['jobtitle', 'phone', 'website'])).properties;
  const leadOf = async (id: string) =>
    (await h.rep.query<{ Title: string | null; Website: string | null }>(`SELECT Title, Website FROM Lead WHERE Id = '${id}'`)).records[0];

  beforeAll(async () => {
    h = await startSyncHarness({ ADMIN_TOKEN });
    client = new AdminClient(h.app.url ?? '');
    await client.signIn(ADMIN_TOKEN);
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
    expect((await client.api('PUT', settingsPath(), mappingsWith('dont_sync'))).status).toBe(200);

    // Two handoffs while the title does not sync and the website is not mapped; a rep then titles the Leads.
    for (const n of [1, 2]) {
      const website = `https://fill-${n}.example.com`;
      const { contactId, lead } = await h.handOff({ jobtitle: 'CTO', website });
      const title = `VP Sales ${n}`;
      // The phone syncs already: its arrival on the contact shows the Lead change was handled.
      const phone = `+1 555 010${n}`;
      await h.rep.sobject('Lead').update({ Id: lead.Id, Title: title, Phone: phone });
      await eventually(async () => (await contactOf(contactId)).phone === phone, 20_000, `the phone of contact ${contactId}`);
      records.push({ contactId, leadId: lead.Id, title, website });
    }
    await quiet();
    for (const r of records) {
      expect((await contactOf(r.contactId)).jobtitle).toBe('CTO');
      expect((await leadOf(r.leadId))?.Website ?? null).toBeNull();
    }
  }, 180_000);

  afterAll(async () => {
    await h?.close();
  });

  it('offers the fill for the pairs a save turns on, fills the linked records by each rule, and no sync follows', async () => {
    const saved = await client.api('PUT', settingsPath(), mappingsWith('always_salesforce', 'prefer_salesforce_unless_blank'));
    expect(saved.status).toBe(200);
    const pairs = [
      { hubspotProperty: 'jobtitle', salesforceField: 'Title' },
      { hubspotProperty: 'website', salesforceField: 'Website' },
    ];
    expect(saved.json.preview).toMatchObject({ fillOffered: true, fillPairs: pairs });
    await quiet();

    const startedAt = new Date();
    const started = await client.api('POST', `/api/installations/${installationId}/field-fill`, { pairs });
    expect(started.status).toBe(202);
    const runId = String(started.json.runId);
    const progress = async () =>
      (await client.api('GET', `/api/installations/${installationId}/field-fill`)).json.run as {
        runId: string;
        status: string;
        done: number;
        total: number;
        failed: number;
        filledContacts: number;
        filledLeads: number;
        ratePerS: number;
      };
    await eventually(async () => (await progress()).status === 'completed', 30_000, 'the fill to complete');
    const final = await progress();
    expect(final).toMatchObject({ runId, status: 'completed', failed: 0 });
    expect(final.done).toBeGreaterThanOrEqual(2);
    expect(final.total).toBe(final.done);
    expect(final.filledContacts).toBeGreaterThanOrEqual(2);
    expect(final.filledLeads).toBeGreaterThanOrEqual(2);

    // always_salesforce: the contacts show the Leads' titles; prefer_salesforce_unless_blank: the blank Leads get the websites.
    for (const r of records) {
      expect((await contactOf(r.contactId)).jobtitle).toBe(r.title);
      expect((await leadOf(r.leadId))?.Website).toBe(r.website);
    }

    // The writes came back as the app's own: no drain ran for these records, and the Leads' Outbound Messages were echoes.
    await quiet();
    const refs = records.flatMap((r) => [`hubspot:contact:${r.contactId}`, `salesforce:Lead:${r.leadId}`]);
    const synced = await h.app.db.query<{ action: string; record_ref: string }>(
      "SELECT action, record_ref FROM sync_log WHERE created_at >= $1 AND record_ref = ANY($2) AND job_queue IN ('sync-to-salesforce', 'sync-to-hubspot')",
      [startedAt, refs],
    );
    expect(synced).toEqual([]);
    const echoes = await h.app.db.query<{ record_ref: string }>(
      "SELECT record_ref FROM sync_log WHERE created_at >= $1 AND action = 'skip_echo' AND record_ref = ANY($2)",
      [startedAt, refs],
    );
    expect(new Set(echoes.map((e) => e.record_ref))).toEqual(new Set(records.map((r) => `salesforce:Lead:${r.leadId}`)));
    const filled = await h.app.db.query<{ record_ref: string }>(
      "SELECT record_ref FROM sync_log WHERE action = 'fill_mapped_fields' AND details->>'backfillRun' = $1",
      [runId],
    );
    expect(filled).toHaveLength(4);

    // The audit trail names the start.
    const activity = await client.api('GET', `/api/installations/${installationId}/activity`);
    expect(JSON.stringify(activity.json)).toContain('Filling existing records started for jobtitle ↔ Title, website ↔ Website');

    // Run again: every pair agrees, nothing is written.
    const again = await client.api('POST', `/api/installations/${installationId}/field-fill`, {});
    expect(again.status).toBe(202);
    await eventually(
      async () => (await progress()).runId === again.json.runId && (await progress()).status === 'completed',
      30_000,
      'the second fill to complete',
    );
    expect(await progress()).toMatchObject({ failed: 0, filledContacts: 0, filledLeads: 0 });
  }, 120_000);

  it('offers the fill on the settings page after a save that changes a rule, and starts it from the page with those pairs', async () => {
    const base = `/admin/installations/${installationId}`;
    await client.page(`${base}/settings?key=fieldMappings`);
    const saved = await client.form(`${base}/settings/fieldMappings`, {
      value: JSON.stringify(mappingsWith('two_way', 'prefer_salesforce_unless_blank')),
      intent: 'save',
    });
    expect(saved.status).toBe(303);
    const location = saved.headers.get('location') ?? '';
    expect(location).toContain(`fill=${encodeURIComponent('jobtitle:Title')}#fill`);

    const page = await client.page(location);
    expect(page.html).toContain('Fill existing records (jobtitle ↔ Title)');
    expect(page.html).toContain('<input type="hidden" name="pairs" value="jobtitle:Title">');
    const started = await client.form(`${base}/settings/fieldMappings/fill`, { pairs: 'jobtitle:Title' });
    expect(started.status).toBe(303);
    expect(started.headers.get('location')).toContain('settings?key=fieldMappings&notice=field_fill_started#fill');
    await eventually(
      async () => (await client.api('GET', `/api/installations/${installationId}/field-fill`)).json.run?.status === 'completed',
      30_000,
      "the page's fill to complete",
    );
    const activity = await client.api('GET', `/api/installations/${installationId}/activity`);
    expect(JSON.stringify(activity.json)).toContain('Filling existing records started for jobtitle ↔ Title"');

    // Its progress shows on the settings page and on the health page.
    expect((await client.page(`${base}/settings?key=fieldMappings`)).html).toMatch(
      /data-run-kind="field-fill"[\s\S]*completed · \d+ \/ \d+ linked records/,
    );
    expect((await client.page(`${base}/health`)).html).toMatch(/<h2>Fill existing records<\/h2>[\s\S]*data-run-kind="field-fill"/);
  }, 60_000);

  it('joins the fill already queued or running instead of starting a second, and refuses a pair that is not one', async () => {
    // A run queued and not yet picked up: the start returns it (and enqueues its job).
    const queued = await createBackfillRun(h.app.db, installationId, FIELD_FILL, 'links');
    const started = await client.api('POST', `/api/installations/${installationId}/field-fill`, {});
    expect(started.status).toBe(202);
    expect(started.json.runId).toBe(queued);
    await eventually(
      async () => (await client.api('GET', `/api/installations/${installationId}/field-fill`)).json.run?.status === 'completed',
      30_000,
      'the joined fill to complete',
    );

    const refused = await client.api('POST', `/api/installations/${installationId}/field-fill`, {
      pairs: [{ hubspotProperty: 'jobtitle' }],
    });
    expect(refused.status).toBe(400);
  }, 60_000);
});
