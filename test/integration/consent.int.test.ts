/**
 * Email consent and GDPR erasure end to end: the running app against both sandboxes, through the
 * real clients (@hubspot/api-client, jsforce) as marketers, recipients and reps drive them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/app-process.ts';
import { directSyncContext, startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';
import { erasePerson } from '../../src/sync/privacy.ts';

describe('email consent and privacy deletion', () => {
  let h: SyncHarness;
  let installationId: string;

  beforeAll(async () => {
    h = await startSyncHarness();
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const optedOutInHubSpot = async (contactId: string): Promise<string | null | undefined> =>
    (await h.hubspot.crm.contacts.basicApi.getById(contactId, ['hs_email_optout'])).properties.hs_email_optout;
  const leadOptOut = async (leadId: string): Promise<boolean> =>
    (await h.rep.query<{ HasOptedOutOfEmail: boolean }>(`SELECT HasOptedOutOfEmail FROM Lead WHERE Id = '${leadId}'`)).records[0]
      ?.HasOptedOutOfEmail ?? false;
  const logged = async (action: string, ref: string): Promise<number> =>
    (await h.app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sync_log WHERE action = $1 AND record_ref = $2', [action, ref]))[0]
      ?.n ?? 0;

  it('refuses a write of hs_email_optout through the CRM objects API, as HubSpot does', async () => {
    const contactId = h.newContact();
    await expect(h.hubspot.crm.contacts.basicApi.update(contactId, { properties: { hs_email_optout: 'true' } })).rejects.toMatchObject({
      code: 400,
      body: { category: 'VALIDATION_ERROR' },
    });
    expect(await optedOutInHubSpot(contactId)).toBeFalsy();
  });

  it('carries an opt-out made in Salesforce to HubSpot, and a later opt-in from the rep does not undo it', async () => {
    const { contactId, lead } = await h.handOff();
    await h.rep.sobject('Lead').update({ Id: lead.Id, HasOptedOutOfEmail: true });
    await eventually(async () => (await optedOutInHubSpot(contactId)) === 'true', 20_000, 'the contact unsubscribed in HubSpot');
    // The app unsubscribed through the subscription preferences API: the CRM write would be refused.
    const status = await h.hubspot.apiRequest({
      method: 'GET',
      path: `/communication-preferences/2026-03/statuses/${encodeURIComponent(String((await h.contact(contactId)).email))}/unsubscribe-all`,
      qs: { channel: 'EMAIL' },
    });
    expect(((await status.json()) as { results: unknown[] }).results).toHaveLength(1);

    // A rep unticks the box: an opt-in never crosses, HubSpot keeps the opt-out, and the log says why.
    await h.rep.sobject('Lead').update({ Id: lead.Id, HasOptedOutOfEmail: false });
    await eventually(
      async () => (await logged('consent_opt_in_held', `hubspot:contact:${contactId}`)) > 0,
      20_000,
      'the held opt-in in the sync log',
    );
    // A later HubSpot change syncs the contact again: the stale opt-in still does not cross either way.
    const entries = async (): Promise<number> =>
      (
        await h.app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sync_log WHERE record_ref = $1', [
          `hubspot:contact:${contactId}`,
        ])
      )[0]?.n ?? 0;
    const before = await entries();
    h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'salesqualifiedlead' });
    await eventually(async () => (await entries()) > before, 20_000, 'the contact synced again');
    expect(await optedOutInHubSpot(contactId)).toBe('true');
    expect(await logged('consent_opt_out', `hubspot:contact:${contactId}`)).toBe(1);
  });

  it('carries an opt-out made in HubSpot (the recipient unsubscribes) to the Lead', async () => {
    const { contactId, lead } = await h.handOff();
    expect(await leadOptOut(lead.Id)).toBe(false);
    h.hubspotSandbox.unsubscribeRecipient(contactId);
    await eventually(() => leadOptOut(lead.Id), 20_000, 'HasOptedOutOfEmail on the Lead');
  });

  it('erases the person on a privacy deletion, anonymizes the Lead, and a repeated erasure is harmless', async () => {
    const lastname = `Privacyova${Date.now()}`;
    const email = `zorana.${lastname.toLowerCase()}@example.com`;
    const { contactId, lead } = await h.handOff({ firstname: 'Zorana', lastname, email });
    await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    await eventually(async () => (await h.contact(contactId)).lifecyclestage === 'salesqualifiedlead', 20_000, 'HubSpot SQL');

    await h.hubspot.crm.contacts.basicApi.purge({ objectId: contactId });
    await eventually(
      async () => (await logged('privacy_erasure', `hubspot:contact:${contactId}`)) === 1,
      30_000,
      'the erasure in the sync log',
    );

    // Every text and jsonb column of every table of the app: neither the email nor the name is left.
    const columns = await h.app.db.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND data_type IN ('text', 'jsonb', 'character varying')`,
    );
    expect(columns.length).toBeGreaterThan(20);
    const found: string[] = [];
    for (const { table_name: table, column_name: column } of columns) {
      const rows = await h.app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${table}" WHERE "${column}"::text ILIKE $1 OR "${column}"::text ILIKE $2`,
        [`%${email}%`, `%Zorana ${lastname}%`],
      );
      if ((rows[0]?.n ?? 0) > 0) found.push(`${table}.${column}`);
    }
    expect(found).toEqual([]);

    // The admin's default policy: the Lead stays (its pipeline history) without the person.
    const anonymized = (
      await h.rep.query<{ LastName: string; FirstName: string | null; Email: string | null; HubSpot_Contact_Id__c: string | null }>(
        `SELECT LastName, FirstName, Email, HubSpot_Contact_Id__c FROM Lead WHERE Id = '${lead.Id}'`,
      )
    ).records[0];
    expect(anonymized).toMatchObject({ LastName: 'Anonymized', FirstName: null, Email: null, HubSpot_Contact_Id__c: null });
    expect(await h.app.db.query('SELECT 1 FROM record_links WHERE hubspot_contact_id = $1', [contactId])).toEqual([]);

    // The same event again (a redelivery, or HubSpot sending it twice) changes nothing.
    const { ctx, close } = await directSyncContext(h);
    try {
      expect(
        await erasePerson({ db: h.app.db, ledger: ctx.ledger, salesforce: ctx.salesforce }, installationId, contactId, new Date()),
      ).toEqual({ kind: 'already_erased' });
    } finally {
      await close();
    }
    expect(await logged('privacy_erasure', `hubspot:contact:${contactId}`)).toBe(1);
  });
});
