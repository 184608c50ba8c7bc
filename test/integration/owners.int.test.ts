/**
 * Owners end to end: the app against both sandbox CRMs over HTTP. The sandbox portal's owners
 * (src/sandbox/hubspot/owners.ts) share emails with the sandbox org's users: Alex Rivera, Jordan
 * Kim and Taylor Brooks are active in both, Casey Nguyen is inactive in Salesforce, Robin Hale has no
 * Salesforce user, and Morgan Lee is archived in HubSpot. Round-robin assignment over the active
 * reps stands for the org's lead assignment rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/app-process.ts';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';

const ADMIN_TOKEN = 'owners-admin-token-0123456789-abcdefghijklmnop';
const OWNER = { alex: '9000001', jordan: '9000002', taylor: '9000003', casey: '9000004', robin: '9000005', morgan: '9000006' } as const;

describe('owners', () => {
  let h: SyncHarness;
  let userId: (username: string) => string;
  let installationId: string;

  beforeAll(async () => {
    h = await startSyncHarness({ ADMIN_TOKEN });
    userId = (username) => h.salesforceSandbox.users().find((user) => user.username === username)?.id ?? '';
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const putOwnerMatching = (value: unknown): Promise<Response> =>
    fetch(`${h.app.url ?? ''}/api/installations/${installationId}/settings/ownerMatching`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(value),
    });

  const leadOwnerFields = async (leadId: string) =>
    (
      await h.rep.query<{ OwnerId: string; Marketing_Owner__c: string | null }>(
        `SELECT OwnerId, Marketing_Owner__c FROM Lead WHERE Id = '${leadId}'`,
      )
    ).records[0];

  const salesOwnerOf = async (contactId: string) =>
    (await h.hubspot.crm.contacts.basicApi.getById(contactId, ['sales_owner_name', 'sales_owner_email'])).properties;

  const unassignedReason = async (contactId: string) =>
    (
      await h.app.db.query<{ level: string; details: { reason?: string } }>(
        "SELECT level, details FROM sync_log WHERE action = 'owner_unassigned' AND record_ref = $1",
        [`hubspot:contact:${contactId}`],
      )
    )[0];

  it('gives the Lead of a contact whose HubSpot owner has an active Salesforce user (email, any case) to that user', async () => {
    const alex = userId('alex.rivera@sandbox.example.com');
    const { contactId, lead } = await h.handOff({ hubspot_owner_id: OWNER.alex });
    expect(lead.OwnerId).toBe(alex);
    expect((await leadOwnerFields(lead.Id))?.Marketing_Owner__c).toBe('Alex Rivera <Alex.Rivera@sandbox.example.com>');
    await eventually(
      async () => (await salesOwnerOf(contactId)).sales_owner_name === 'Alex Rivera',
      15_000,
      'the sales owner on the contact',
    );
    expect((await salesOwnerOf(contactId)).sales_owner_email).toBe('alex.rivera@sandbox.example.com');
  });

  it.each([
    ['unmatched', OWNER.robin, 'robin.hale@sandbox.example.com'],
    ['inactive', OWNER.casey, 'casey.nguyen@sandbox.example.com'],
    ['archived', OWNER.morgan, 'morgan.lee@sandbox.example.com'],
  ])('leaves the Lead of a contact with an %s owner to the assignment rules and logs why', async (reason, owner, email) => {
    const { contactId, lead } = await h.handOff({ hubspot_owner_id: owner });
    expect(h.salesforceSandbox.salesRepIds).toContain(lead.OwnerId);
    expect(lead.OwnerId).not.toBe(userId(email));
    expect(lead.OwnerId).not.toBe(userId('integration@sandbox.example.com'));
    // The run writes its log after the Lead exists: wait for it.
    await eventually(async () => (await unassignedReason(contactId)) !== undefined, 15_000, 'the owner_unassigned log line');
    expect(await unassignedReason(contactId)).toMatchObject({ level: 'warn', details: { reason } });
    // The rule's owner is shown to marketing: the contact says who works the Lead.
    const assigned = h.salesforceSandbox.users().find((user) => user.id === lead.OwnerId);
    await eventually(
      async () => (await salesOwnerOf(contactId)).sales_owner_name === assigned?.name,
      15_000,
      'the assigned owner on the contact',
    );
  });

  it("shows a marketer's owner change on the linked Lead as its marketing owner", async () => {
    const { contactId, lead } = await h.handOff({ hubspot_owner_id: OWNER.alex });
    expect((await leadOwnerFields(lead.Id))?.Marketing_Owner__c).toBe('Alex Rivera <Alex.Rivera@sandbox.example.com>');
    h.hubspotSandbox.editInUi('contacts', contactId, { hubspot_owner_id: OWNER.robin });
    await eventually(
      async () => (await leadOwnerFields(lead.Id))?.Marketing_Owner__c?.startsWith('Robin Hale') === true,
      15_000,
      'the new marketing owner on the Lead',
    );
    // The Lead stays with the rep who works it: a marketing owner change is not a reassignment.
    expect((await leadOwnerFields(lead.Id))?.OwnerId).toBe(lead.OwnerId);
  });

  it('lets an override pair an owner with another user, checked against both CRMs when saved', async () => {
    const refused = await putOwnerMatching({
      overrides: [{ hubspotOwner: OWNER.taylor, salesforceUser: 'casey.nguyen@sandbox.example.com' }],
    });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(await refused.json())).toContain('inactive in Salesforce');
    const unknown = await putOwnerMatching({ overrides: [{ hubspotOwner: '1234567', salesforceUser: 'jordan.kim@sandbox.example.com' }] });
    expect(unknown.status).toBe(422);

    const saved = await putOwnerMatching({
      overrides: [{ hubspotOwner: 'TAYLOR.BROOKS@sandbox.example.com', salesforceUser: 'jordan.kim@sandbox.example.com' }],
    });
    expect(saved.status).toBe(200);
    try {
      const { lead } = await h.handOff({ hubspot_owner_id: OWNER.taylor });
      expect(lead.OwnerId).toBe(userId('jordan.kim@sandbox.example.com'));
      expect((await leadOwnerFields(lead.Id))?.Marketing_Owner__c).toBe('Taylor Brooks <taylor.brooks@sandbox.example.com>');
    } finally {
      await putOwnerMatching({ overrides: [] });
    }
  });

  it('shows a Salesforce owner change on the HubSpot contact, and never the integration user', async () => {
    const { contactId, lead } = await h.handOff({ hubspot_owner_id: OWNER.alex });
    await eventually(async () => (await salesOwnerOf(contactId)).sales_owner_name === 'Alex Rivera', 15_000, 'the first sales owner');
    await h.rep.sobject('Lead').update({ Id: lead.Id, OwnerId: userId('taylor.brooks@sandbox.example.com') });
    await eventually(
      async () => (await salesOwnerOf(contactId)).sales_owner_name === 'Taylor Brooks',
      20_000,
      'the new sales owner on the contact',
    );
    // The HubSpot owner is marketing's: the app does not move it.
    expect((await h.hubspot.crm.contacts.basicApi.getById(contactId, ['hubspot_owner_id'])).properties.hubspot_owner_id).toBe(OWNER.alex);
  });
});
