/**
 * Sales feedback back to marketing, end to end: a rep closes, recycles or wins a Lead with their
 * own Salesforce session; the app writes the standardized feedback to the HubSpot contact
 * (properties, lifecycle, a timeline note) through the real clients against both sandboxes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/app-process.ts';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';

const FEEDBACK_PROPERTIES = [
  'lifecyclestage',
  'hs_lead_status',
  'sales_feedback_status',
  'sales_feedback_reason',
  'sales_feedback_notes',
  'sales_feedback_by',
  'sales_feedback_at',
  'sales_opportunity_amount',
  'sales_won_amount',
];

describe('sales feedback to HubSpot', () => {
  let h: SyncHarness;
  let repName: string;

  beforeAll(async () => {
    h = await startSyncHarness();
    const repId = h.salesforceSandbox.salesRepIds[0] as string;
    repName = h.salesforceSandbox.users().find((user) => user.id === repId)?.name ?? '';
    expect(repName).not.toBe('');
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  async function feedbackOf(contactId: string): Promise<Record<string, string | null>> {
    return (await h.hubspot.crm.contacts.basicApi.getById(contactId, FEEDBACK_PROPERTIES)).properties;
  }

  /** The bodies of the notes associated with the contact, oldest first. */
  async function notesOf(contactId: string): Promise<string[]> {
    const associated = await h.hubspot.crm.associations.v4.basicApi.getPage('contacts', contactId, 'notes');
    const notes = await Promise.all(
      associated.results.map((row) =>
        h.hubspot.crm.objects.notes.basicApi.getById(String(row.toObjectId), ['hs_note_body', 'hs_timestamp']),
      ),
    );
    return notes
      .sort((a, b) => Date.parse(a.properties.hs_timestamp ?? '') - Date.parse(b.properties.hs_timestamp ?? ''))
      .map((note) => note.properties.hs_note_body ?? '');
  }

  it('writes a No need rejection to the contact: feedback properties, UNQUALIFIED and a timeline note', async () => {
    const { contactId, lead } = await h.handOff();
    await h.rep.sobject('Lead').update({
      Id: lead.Id,
      Status: 'Closed - Not Converted',
      Feedback_Reason__c: 'No need',
      Feedback_Notes__c: 'Runs everything on spreadsheets, <no> plans to change',
    });

    let props: Record<string, string | null> = {};
    await eventually(
      async () => {
        props = await feedbackOf(contactId);
        return props.sales_feedback_status === 'rejected';
      },
      20_000,
      'the rejection in HubSpot',
    );
    expect(props).toMatchObject({
      hs_lead_status: 'UNQUALIFIED',
      lifecyclestage: 'marketingqualifiedlead',
      sales_feedback_reason: 'no_need',
      sales_feedback_notes: 'Runs everything on spreadsheets, <no> plans to change',
      sales_feedback_by: repName,
    });
    expect(Date.parse(props.sales_feedback_at ?? '')).toBeGreaterThan(Date.now() - 60_000);

    await eventually(async () => (await notesOf(contactId)).length === 1, 10_000, 'the timeline note');
    const [note] = await notesOf(contactId);
    expect(note).toContain('Sales feedback: Rejected');
    expect(note).toContain('Reason: No need');
    expect(note).toContain('Runs everything on spreadsheets, &lt;no&gt; plans to change');
    expect(note).toContain(`By ${repName}`);
    expect(note).toContain(`href="${h.salesforceSandbox.url}/lightning/r/Lead/${lead.Id}/view"`);
  });

  it('recycles a Bad timing rejection back to lead for nurture, clearing the lifecycle first', async () => {
    const { contactId, lead } = await h.handOff();
    await h.rep
      .sobject('Lead')
      .update({ Id: lead.Id, Status: 'Closed - Not Converted', Feedback_Reason__c: 'Bad timing', Feedback_Notes__c: 'Budget opens in Q3' });

    let props: Record<string, string | null> = {};
    await eventually(
      async () => {
        props = await feedbackOf(contactId);
        return props.sales_feedback_status === 'recycled';
      },
      20_000,
      'the recycled feedback in HubSpot',
    );
    expect(props).toMatchObject({
      lifecyclestage: 'lead',
      hs_lead_status: 'NEW',
      sales_feedback_reason: 'bad_timing',
      sales_feedback_notes: 'Budget opens in Q3',
    });
    await eventually(
      async () => (await notesOf(contactId)).some((note) => note.includes('Recycled to nurture') && note.includes('Bad timing')),
      10_000,
      'the recycle note',
    );
  });

  it('makes a converted Lead whose Opportunity is Closed Won at 50,000 a customer with the won amount', async () => {
    const { contactId, lead } = await h.handOff();
    await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    const converted = await h.rep.soap.convertLead({ leadId: lead.Id, convertedStatus: 'Closed - Converted' });
    const { opportunityId } = (Array.isArray(converted) ? converted[0] : converted) as { opportunityId: string };
    await eventually(async () => (await feedbackOf(contactId)).lifecyclestage === 'opportunity', 20_000, 'HubSpot opportunity');

    await h.rep
      .sobject('Opportunity')
      .update({ Id: opportunityId, Amount: 50000, CloseDate: '2026-06-30', StageName: 'Closed Won', Win_Reason__c: 'Best integration' });
    let props: Record<string, string | null> = {};
    await eventually(
      async () => {
        props = await feedbackOf(contactId);
        return props.sales_feedback_status === 'won';
      },
      20_000,
      'the win in HubSpot',
    );
    expect(props).toMatchObject({
      lifecyclestage: 'customer',
      sales_won_amount: '50000',
      sales_opportunity_amount: '50000',
      sales_feedback_by: repName,
    });
    await eventually(async () => (await notesOf(contactId)).some((note) => note.includes('Sales feedback: Won')), 10_000, 'the win note');
    const won = (await notesOf(contactId)).find((note) => note.includes('Sales feedback: Won')) ?? '';
    expect(won).toContain('Win reason: Best integration');
    expect(won).toContain('Amount: 50,000.00 (close date 2026-06-30)');
    expect(won).toContain(`/lightning/r/Opportunity/${opportunityId}/view`);

    const events = await h.app.db.query<{ outcome: string; amount: number | null; close_date: string | null }>(
      "SELECT outcome, amount, close_date FROM feedback_events WHERE hubspot_contact_id = $1 AND outcome = 'won'",
      [contactId],
    );
    expect(events).toEqual([{ outcome: 'won', amount: 50000, close_date: '2026-06-30' }]);
  });

  it('records the reason of a lost Opportunity and keeps the contact at opportunity', async () => {
    const { contactId, lead } = await h.handOff();
    await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    const converted = await h.rep.soap.convertLead({ leadId: lead.Id, convertedStatus: 'Closed - Converted' });
    const { opportunityId } = (Array.isArray(converted) ? converted[0] : converted) as { opportunityId: string };
    await eventually(async () => (await feedbackOf(contactId)).lifecyclestage === 'opportunity', 20_000, 'HubSpot opportunity');

    await h.rep.sobject('Opportunity').update({ Id: opportunityId, StageName: 'Closed Lost', Loss_Reason__c: 'Competitor' });
    let props: Record<string, string | null> = {};
    await eventually(
      async () => {
        props = await feedbackOf(contactId);
        return props.sales_feedback_status === 'lost';
      },
      20_000,
      'the loss in HubSpot',
    );
    expect(props).toMatchObject({ lifecyclestage: 'opportunity', sales_feedback_reason: 'competitor' });
    await eventually(
      async () => (await notesOf(contactId)).some((note) => note.includes('Sales feedback: Lost') && note.includes('Reason: Competitor')),
      10_000,
      'the loss note',
    );
  });

  it('writes one note per piece of feedback: duplicated deliveries and later edits that change no feedback add none', async () => {
    const { contactId, lead } = await h.handOff();
    const leadRef = `salesforce:Lead:${lead.Id}`;
    const resyncs = async (): Promise<number> =>
      (
        await h.app.db.query<{ n: number }>("SELECT count(*) AS n FROM sync_log WHERE record_ref = $1 AND action = 'no_change'", [leadRef])
      )[0]?.n ?? 0;
    h.salesforceSandbox.faults.set({ outbound: { duplicate: { probability: 1 } } });
    try {
      await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Closed - Not Converted', Feedback_Reason__c: 'Duplicate' });
      await eventually(async () => (await feedbackOf(contactId)).sales_feedback_reason === 'duplicate', 20_000, 'the rejection in HubSpot');
      await eventually(async () => (await notesOf(contactId)).length === 1, 10_000, 'the timeline note');
      // A later edit that is no feedback (the rep fixes the title) syncs the Lead again.
      const before = await resyncs();
      await h.rep.sobject('Lead').update({ Id: lead.Id, Title: 'Head of Operations' });
      await eventually(async () => (await resyncs()) > before, 20_000, 'the Lead synced again');
    } finally {
      h.salesforceSandbox.faults.clear();
    }
    expect(
      h.salesforceSandbox.outbound
        .deliveries()
        .some((delivery) => delivery.recordIds.includes(lead.Id) && delivery.faults.includes('duplicate')),
    ).toBe(true);
    expect(await notesOf(contactId)).toHaveLength(1);
    const events = await h.app.db.query<{ n: number }>('SELECT count(*) AS n FROM feedback_events WHERE hubspot_contact_id = $1', [
      contactId,
    ]);
    expect(events[0]?.n).toBe(1);
  });
});
