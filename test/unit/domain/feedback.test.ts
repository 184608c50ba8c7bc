import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FEEDBACK_TAXONOMY,
  deriveFeedback,
  escapeHtml,
  leadStatusMeanings,
  reasonCodeFor,
  recycleReasonsOf,
  renderTimelineNote,
  validateFeedbackTaxonomy,
  type Feedback,
  type FeedbackLeadSnapshot,
  type FeedbackOpportunitySnapshot,
  type FeedbackSnapshot,
  type PreviousFeedback,
} from '../../../src/domain/feedback.ts';
import { DEFAULT_STAGE_DICTIONARY } from '../../../src/domain/stages.ts';
import { recyclingLostOpportunities } from '../../support/dictionaries.ts';

const T = DEFAULT_FEEDBACK_TAXONOMY;
const D = DEFAULT_STAGE_DICTIONARY;
const AT = '2026-03-02T14:05:00.000Z';
const AT_MS = Date.parse(AT);

const lead = (fields: Partial<FeedbackLeadSnapshot>): FeedbackLeadSnapshot => ({
  object: 'Lead',
  Id: '00Q000000000001AAA',
  Status: 'Open - Not Contacted',
  IsConverted: false,
  OwnerName: 'Riley Rep',
  LastModifiedDate: AT,
  ...fields,
});

const opportunity = (fields: Partial<FeedbackOpportunitySnapshot>): FeedbackOpportunitySnapshot => ({
  object: 'Opportunity',
  Id: '006000000000001AAA',
  StageName: 'Proposal/Price Quote',
  IsClosed: false,
  IsWon: false,
  Amount: 12_500,
  OwnerName: 'Riley Rep',
  LastModifiedDate: AT,
  ...fields,
});

describe('feedback taxonomy', () => {
  it('accepts the defaults', () => {
    expect(validateFeedbackTaxonomy(T)).toEqual({ ok: true, value: T });
  });

  it('takes what recycles and what each Lead Status means from the stage dictionary', () => {
    expect(recycleReasonsOf(D, 'Lead')).toEqual(['Bad timing', 'No budget']);
    expect(recycleReasonsOf(D, 'Opportunity')).toEqual([]);
    expect(leadStatusMeanings(D)).toEqual({
      untouched: ['Open - Not Contacted'],
      accepted: ['Working - Contacted'],
      closed: ['Closed - Not Converted'],
    });
  });

  it('refuses the meanings that now live in the stage dictionary, naming them', () => {
    const refused = validateFeedbackTaxonomy({ recycleLostReasons: ['bad_timing'], leadStatuses: { accepted: ['Working'] } });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.join('\n')).toMatch(/recycleLostReasons/);
  });

  it.each<[string | null | undefined, string | null]>([
    ['No budget', 'no_budget'],
    ['No authority', 'no_authority'],
    ['No need', 'no_need'],
    ['Bad timing', 'bad_timing'],
    ['Wrong contact data', 'wrong_contact_data'],
    ['Competitor', 'competitor'],
    ['Duplicate', 'duplicate'],
    ['Other', 'other'],
    ['  bad TIMING ', 'bad_timing'],
    ['no_need', 'no_need'],
    ['Went dark', 'other'],
    ['', null],
    [null, null],
  ])('maps Feedback_Reason__c %j to %j', (label, code) => {
    expect(reasonCodeFor(T, label)).toBe(code);
  });

  it('refuses a taxonomy with duplicate labels and codes, all at once', () => {
    const result = validateFeedbackTaxonomy({
      reasons: [
        { label: 'No budget', code: 'no_budget' },
        { label: 'no budget', code: 'budget' },
        { label: 'Later', code: 'no_budget' },
        { label: 'Other', code: 'other' },
      ],
    });
    expect(result).toEqual({
      ok: false,
      error: ['reasons[1].label: label "no budget" is listed twice', 'reasons[2].code: code "no_budget" is listed twice'],
    });
  });

  it('refuses a code that is not snake_case and a missing fallback code', () => {
    const result = validateFeedbackTaxonomy({ reasons: [{ label: 'No budget', code: 'No Budget' }] });
    expect(result).toEqual({
      ok: false,
      error: ['reasons[0].code: must be snake_case (a-z, 0-9, _)', 'fallbackCode: "other" is not a reason code'],
    });
    const noFallback = validateFeedbackTaxonomy({ reasons: [{ label: 'No budget', code: 'no_budget' }] });
    expect(noFallback).toEqual({
      ok: false,
      error: ['fallbackCode: "other" is not a reason code'],
    });
  });
});

describe('deriveFeedback', () => {
  it.each<{ name: string; snapshot: FeedbackSnapshot; outcome: string; code: string | null; stage: string; intent: object }>([
    {
      name: "records 'Working - Contacted' as accepted",
      snapshot: lead({ Status: 'Working - Contacted' }),
      outcome: 'accepted',
      code: null,
      stage: 'sql',
      intent: { kind: 'set', properties: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' } },
    },
    {
      name: 'records a Lead closed for No need as rejected with UNQUALIFIED',
      snapshot: lead({ Status: 'Closed - Not Converted', Feedback_Reason__c: 'No need' }),
      outcome: 'rejected',
      code: 'no_need',
      stage: 'rejected',
      intent: { kind: 'set', properties: { hs_lead_status: 'UNQUALIFIED' } },
    },
    {
      name: 'records a Lead closed for Competitor as rejected',
      snapshot: lead({ Status: 'Closed - Not Converted', Feedback_Reason__c: 'Competitor' }),
      outcome: 'rejected',
      code: 'competitor',
      stage: 'rejected',
      intent: { kind: 'set', properties: { hs_lead_status: 'UNQUALIFIED' } },
    },
    {
      name: 'records a Lead closed without a reason as rejected',
      snapshot: lead({ Status: 'Closed - Not Converted' }),
      outcome: 'rejected',
      code: null,
      stage: 'rejected',
      intent: { kind: 'set' },
    },
    {
      name: 'recycles a Lead closed for Bad timing back to lead, cleared first',
      snapshot: lead({ Status: 'Closed - Not Converted', Feedback_Reason__c: 'Bad timing' }),
      outcome: 'recycled',
      code: 'bad_timing',
      stage: 'recycled',
      intent: { kind: 'clear_then_set', properties: { lifecyclestage: 'lead', hs_lead_status: 'NEW' } },
    },
    {
      name: 'recycles a Lead closed for No budget',
      snapshot: lead({ Status: 'Closed - Not Converted', Feedback_Reason__c: 'No budget' }),
      outcome: 'recycled',
      code: 'no_budget',
      stage: 'recycled',
      intent: { kind: 'clear_then_set' },
    },
    {
      name: 'records a Lead converted with an Opportunity as opportunity',
      snapshot: lead({ Status: 'Closed - Converted', IsConverted: true, ConvertedOpportunityId: '006000000000001AAA' }),
      outcome: 'opportunity',
      code: null,
      stage: 'opportunity',
      intent: { kind: 'set', properties: { lifecyclestage: 'opportunity' } },
    },
    {
      name: 'records a Lead converted without an Opportunity as accepted',
      snapshot: lead({ Status: 'Closed - Converted', IsConverted: true }),
      outcome: 'accepted',
      code: null,
      stage: 'sql',
      intent: { kind: 'set' },
    },
    {
      name: 'records an open Opportunity as opportunity',
      snapshot: opportunity({}),
      outcome: 'opportunity',
      code: null,
      stage: 'opportunity',
      intent: { kind: 'set', properties: { lifecyclestage: 'opportunity' } },
    },
    {
      name: 'records a Closed Won Opportunity as won and makes a customer',
      snapshot: opportunity({ StageName: 'Closed Won', IsClosed: true, IsWon: true, Win_Reason__c: 'Integration depth' }),
      outcome: 'won',
      code: null,
      stage: 'customer',
      intent: { kind: 'set', properties: { lifecyclestage: 'customer' } },
    },
    {
      name: 'records a Closed Lost Opportunity as lost and keeps the lifecycle',
      snapshot: opportunity({ StageName: 'Closed Lost', IsClosed: true, Loss_Reason__c: 'Competitor' }),
      outcome: 'lost',
      code: 'competitor',
      stage: 'lost',
      intent: { kind: 'none' },
    },
    {
      name: 'maps an unknown reason label to other',
      snapshot: lead({ Status: 'Closed - Not Converted', Feedback_Reason__c: 'Went dark' }),
      outcome: 'rejected',
      code: 'other',
      stage: 'rejected',
      intent: { kind: 'set' },
    },
  ])('$name', ({ snapshot, outcome, code, stage, intent }) => {
    const decision = deriveFeedback(null, snapshot, T, D);
    expect(decision.kind).toBe('feedback');
    if (decision.kind !== 'feedback') return;
    expect(decision.feedback).toMatchObject({ outcome, reasonCode: code, by: 'Riley Rep', at: AT_MS });
    expect(decision.stage).toBe(stage);
    expect(decision.lifecycleIntent).toMatchObject(intent);
    expect(decision.hubspotProperties).toMatchObject({
      sales_feedback_status: outcome,
      sales_feedback_reason: code ?? '',
      sales_feedback_by: 'Riley Rep',
      sales_feedback_at: AT,
    });
  });

  it('writes the opportunity amount and, once won, the won amount', () => {
    const open = deriveFeedback(null, opportunity({ Amount: 12_500.5 }), T, D);
    expect(open).toMatchObject({ kind: 'feedback', hubspotProperties: { sales_opportunity_amount: '12500.50' } });
    if (open.kind === 'feedback') expect(open.hubspotProperties).not.toHaveProperty('sales_won_amount');
    const won = deriveFeedback(null, opportunity({ IsClosed: true, IsWon: true, Amount: '48000', CloseDate: '2026-03-31' }), T, D);
    expect(won).toMatchObject({
      kind: 'feedback',
      feedback: { amountCents: 4_800_000, closeDate: '2026-03-31' },
      hubspotProperties: { sales_opportunity_amount: '48000.00', sales_won_amount: '48000.00' },
    });
  });

  it('clears the reason and notes of earlier feedback with empty values', () => {
    const decision = deriveFeedback(
      { outcome: 'rejected', reasonCode: 'no_need', notes: 'not a fit', at: AT_MS - 1 },
      lead({ Status: 'Working - Contacted' }),
      T,
      D,
    );
    expect(decision).toMatchObject({ kind: 'feedback', hubspotProperties: { sales_feedback_reason: '', sales_feedback_notes: '' } });
  });

  it('recycles a lost Opportunity when a recycled row of the dictionary names its reason', () => {
    const dictionary = recyclingLostOpportunities(['Bad timing']);
    const lostLate = opportunity({ IsClosed: true, Loss_Reason__c: 'Bad timing' });
    expect(deriveFeedback(null, lostLate, T, dictionary)).toMatchObject({
      kind: 'feedback',
      feedback: { outcome: 'recycled', reasonCode: 'bad_timing' },
      lifecycleIntent: { kind: 'clear_then_set', properties: { lifecyclestage: 'lead', hs_lead_status: 'NEW' } },
    });
    expect(deriveFeedback(null, lostLate, T, D)).toMatchObject({ kind: 'feedback', feedback: { outcome: 'lost' } });
  });

  it("sets the HubSpot values the outcome stage's dictionary row states", () => {
    const dictionary = {
      ...D,
      rows: D.rows.map((row) =>
        row.stage === 'sql' ? { ...row, hubspot: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'CONNECTED' } } : row,
      ),
    };
    expect(deriveFeedback(null, lead({ Status: 'Working - Contacted' }), T, dictionary)).toMatchObject({
      kind: 'feedback',
      lifecycleIntent: { kind: 'set', properties: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'CONNECTED' } },
    });
  });

  it.each<{ name: string; previous: PreviousFeedback | null; snapshot: FeedbackSnapshot; reason: string }>([
    {
      name: 'reports nothing while the Lead is not contacted yet',
      previous: null,
      snapshot: lead({}),
      reason: 'no feedback yet: Lead Status "Open - Not Contacted"',
    },
    {
      name: 'reports nothing for a Lead Status the taxonomy does not know',
      previous: null,
      snapshot: lead({ Status: 'Nurturing' }),
      reason: 'Lead Status "Nurturing" carries no feedback',
    },
    {
      name: 'reports nothing when the feedback is unchanged',
      previous: { outcome: 'rejected', reasonCode: 'no_need', notes: null, at: AT_MS },
      snapshot: lead({ Status: 'Closed - Not Converted', Feedback_Reason__c: 'No need' }),
      reason: 'unchanged: feedback is already rejected',
    },
    {
      name: 'reports nothing for a change older than the recorded feedback',
      previous: { outcome: 'accepted', reasonCode: null, at: AT_MS + 1 },
      snapshot: lead({ Status: 'Closed - Not Converted', Feedback_Reason__c: 'No need' }),
      reason: 'stale: Lead 00Q000000000001AAA changed before the recorded feedback',
    },
    {
      name: 'reports nothing without a readable change time',
      previous: null,
      snapshot: lead({ Status: 'Working - Contacted', LastModifiedDate: 'soon' }),
      reason: 'Lead 00Q000000000001AAA has no valid LastModifiedDate',
    },
  ])('$name', ({ previous, snapshot, reason }) => {
    expect(deriveFeedback(previous, snapshot, T, D)).toEqual({ kind: 'none', reason });
  });

  it('reports new notes on the same outcome', () => {
    const decision = deriveFeedback(
      { outcome: 'rejected', reasonCode: 'no_need', notes: null, at: AT_MS },
      lead({ Status: 'Closed - Not Converted', Feedback_Reason__c: 'No need', Feedback_Notes__c: 'Uses spreadsheets' }),
      T,
      D,
    );
    expect(decision).toMatchObject({ kind: 'feedback', hubspotProperties: { sales_feedback_notes: 'Uses spreadsheets' } });
  });
});

describe('renderTimelineNote', () => {
  const base: Feedback = {
    outcome: 'rejected',
    object: 'Lead',
    recordId: '00Q000000000001AAA',
    reasonCode: 'no_need',
    reasonLabel: 'No need',
    notes: 'Uses spreadsheets.\nRevisit in Q3.',
    by: 'Riley Rep',
    at: AT_MS,
    amountCents: null,
    closeDate: null,
  };
  const url = 'https://example.my.salesforce.com/00Q000000000001AAA';

  it('shows outcome, reason, notes, rep, time and a Salesforce link', () => {
    expect(renderTimelineNote(base, { salesforceUrl: url })).toBe(
      '<p><strong>Sales feedback: Rejected</strong> — Reason: No need</p>' +
        '<p>Notes: Uses spreadsheets.<br>Revisit in Q3.</p>' +
        `<p>By Riley Rep, 2026-03-02 14:05 UTC · <a href="${url}">Open in Salesforce</a></p>`,
    );
  });

  it('escapes every interpolated value', () => {
    const hostile: Feedback = {
      ...base,
      reasonLabel: '<img src=x onerror=alert(1)>',
      notes: '"quoted" & <b>bold</b>',
      by: "O'Brien <script>",
    };
    const html = renderTimelineNote(hostile, { salesforceUrl: 'https://example.com/?a=1&b="2"' });
    expect(html).not.toMatch(/<img|<script|<b>/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(html).toContain('By O&#39;Brien &lt;script&gt;');
    expect(html).toContain('href="https://example.com/?a=1&amp;b=&quot;2&quot;"');
  });

  it.each(['javascript:alert(1)', 'data:text/html,x', '', null])('drops a link that is not http(s): %j', (salesforceUrl) => {
    expect(renderTimelineNote(base, { salesforceUrl })).not.toContain('<a ');
  });

  it('shows a won amount with its close date and the win reason', () => {
    const won: Feedback = {
      ...base,
      outcome: 'won',
      object: 'Opportunity',
      reasonCode: null,
      reasonLabel: 'Integration depth',
      notes: null,
      amountCents: 4_800_050,
      closeDate: '2026-03-31',
    };
    expect(renderTimelineNote(won, { salesforceUrl: url })).toBe(
      '<p><strong>Sales feedback: Won</strong> — Win reason: Integration depth</p>' +
        '<p>Amount: 48,000.50 (close date 2026-03-31)</p>' +
        `<p>By Riley Rep, 2026-03-02 14:05 UTC · <a href="${url}">Open in Salesforce</a></p>`,
    );
  });

  it('reads well with nothing but an outcome', () => {
    const bare: Feedback = { ...base, outcome: 'recycled', reasonCode: null, reasonLabel: null, notes: null, by: null };
    expect(renderTimelineNote(bare, {})).toBe('<p><strong>Sales feedback: Recycled to nurture</strong></p><p>2026-03-02 14:05 UTC</p>');
  });

  it.each<[string, string]>([
    ['a & b', 'a &amp; b'],
    ['<tag>', '&lt;tag&gt;'],
    [`"'`, '&quot;&#39;'],
  ])('escapes %j as %j', (text, escaped) => {
    expect(escapeHtml(text)).toBe(escaped);
  });
});
