import { describe, expect, it } from 'vitest';
import {
  compareStageRank,
  DEFAULT_FIELD_MAPPINGS,
  DEFAULT_STAGE_DICTIONARY,
  decideHubSpotToSalesforce,
  decideSalesforceToHubSpot,
  findStageForHubSpot,
  findStageForSalesforce,
  isForwardMove,
  isStale,
  lifecycleRank,
  resolveFieldValue,
  validateFieldMappings,
  validateStageDictionary,
  type FieldSyncRule,
  type HubSpotContactSnapshot,
  type OneWayDirection,
  type RecordLink,
  type SalesforceSnapshot,
  type SharedStage,
  type StageDictionary,
  type StageRow,
} from '../../../src/domain/stages.ts';
import { recyclingLostOpportunities } from '../../support/dictionaries.ts';

const D = DEFAULT_STAGE_DICTIONARY;

function withRows(extra: unknown[], base: StageDictionary = D): unknown {
  return { ...base, rows: [...base.rows, ...extra] };
}

function replaceRow(index: number, row: unknown): unknown {
  return { ...D, rows: D.rows.map((existing, i) => (i === index ? row : existing)) };
}

const lead = (Status: string, Feedback_Reason__c?: string): SalesforceSnapshot =>
  Feedback_Reason__c === undefined
    ? { object: 'Lead', Status, IsConverted: false }
    : { object: 'Lead', Status, IsConverted: false, Feedback_Reason__c };
const opportunity = (state: 'open' | 'won' | 'lost'): SalesforceSnapshot => ({
  object: 'Opportunity',
  StageName: state === 'open' ? 'Proposal/Price Quote' : state === 'won' ? 'Closed Won' : 'Closed Lost',
  IsClosed: state !== 'open',
  IsWon: state === 'won',
  Amount: 12_500,
});

describe('validateStageDictionary', () => {
  it('accepts the default dictionary', () => {
    const result = validateStageDictionary(D);
    expect(result.ok).toBe(true);
  });

  it('fills handoffStage and the HubSpot lifecycle order when they are left out', () => {
    const result = validateStageDictionary({ rows: D.rows });
    expect(result).toMatchObject({ ok: true, value: { handoffStage: 'mql', hubspotLifecycleOrder: D.hubspotLifecycleOrder } });
  });

  it('accepts two rows that give the same stage the same HubSpot value', () => {
    // rows[5] and rows[6] both mean opportunity (converted Lead, open Opportunity).
    expect(D.rows[5]?.hubspot).toEqual(D.rows[6]?.hubspot);
    expect(validateStageDictionary(D).ok).toBe(true);
  });

  it.each<{ name: string; input: unknown; messages: string[] }>([
    {
      name: 'maps one HubSpot value to two stages',
      input: withRows([
        {
          stage: 'sql',
          direction: 'salesforce_to_hubspot',
          hubspot: { lifecyclestage: 'Customer' },
          salesforce: { object: 'Lead', status: 'Qualified' },
        },
      ]),
      messages: ['rows[9]: stage "sql" maps HubSpot lifecyclestage="Customer", which rows[7] already maps to stage "customer"'],
    },
    {
      name: 'maps one Salesforce Lead Status to two stages',
      input: withRows([
        {
          stage: 'lost',
          direction: 'salesforce_to_hubspot',
          hubspot: { hs_lead_status: 'BAD_TIMING' },
          salesforce: { object: 'Lead', status: 'working - contacted' },
        },
      ]),
      messages: ['rows[9]: stage "lost" maps Salesforce Lead Status "working - contacted", which rows[2] already maps to stage "sql"'],
    },
    {
      name: 'maps one Salesforce reason to two stages',
      input: withRows([
        {
          stage: 'rejected',
          direction: 'salesforce_to_hubspot',
          hubspot: { hs_lead_status: 'UNQUALIFIED', sales_feedback_status: 'rejected' },
          salesforce: { object: 'Lead', status: 'Closed - Not Converted', reasons: ['No budget', 'Competitor'] },
        },
      ]),
      messages: [
        'rows[9]: stage "rejected" maps Salesforce Lead Status "Closed - Not Converted" with reason "No budget" / "Competitor", which rows[4] already maps to stage "recycled"',
      ],
    },
    {
      name: 'maps one Opportunity state to two stages',
      input: withRows([
        {
          stage: 'opportunity',
          direction: 'salesforce_to_hubspot',
          hubspot: { lifecyclestage: 'opportunity' },
          salesforce: { object: 'Opportunity', state: 'won' },
        },
      ]),
      messages: ['rows[9]: stage "opportunity" maps Salesforce Opportunity won, which rows[7] already maps to stage "customer"'],
    },
    {
      name: 'leaves a hubspot_to_salesforce row without a Salesforce meaning',
      input: replaceRow(1, { ...D.rows[1], salesforce: null }),
      messages: [
        'rows[1]: stage "mql" syncs hubspot_to_salesforce but has no Salesforce meaning',
        'handoffStage: handoff stage "mql" has no row that syncs to Salesforce as a Lead Status',
      ],
    },
    {
      name: 'leaves a salesforce_to_hubspot row without a HubSpot meaning',
      input: replaceRow(2, { ...D.rows[2], hubspot: {} }),
      messages: ['rows[2]: stage "sql" syncs salesforce_to_hubspot but has no HubSpot meaning'],
    },
    {
      name: 'leaves a two-way row without a HubSpot meaning',
      input: replaceRow(2, { ...D.rows[2], direction: 'both', hubspot: null }),
      messages: ['rows[2]: stage "sql" syncs both but has no HubSpot meaning'],
    },
    {
      name: 'asks the app to move an Opportunity from HubSpot',
      input: replaceRow(7, { ...D.rows[7], direction: 'both' }),
      messages: [
        'rows[7]: stage "customer" syncs both but its Salesforce meaning is not a Lead Status; the app only creates and updates Leads',
      ],
    },
    {
      name: 'asks the app to write a sales-only reason from HubSpot',
      input: replaceRow(4, { ...D.rows[4], direction: 'both' }),
      messages: ['rows[4]: stage "recycled" syncs both but its Salesforce meaning needs conversion or a feedback reason, which sales sets'],
    },
    {
      name: 'uses a lifecyclestage outside the lifecycle order',
      input: replaceRow(2, { ...D.rows[2], hubspot: { lifecyclestage: 'sales_accepted' } }),
      messages: ['rows[2]: stage "sql" uses HubSpot lifecyclestage "sales_accepted", which is not in hubspotLifecycleOrder'],
    },
    {
      name: 'lists a lifecycle value twice',
      input: { ...D, hubspotLifecycleOrder: ['lead', 'LEAD', ...D.hubspotLifecycleOrder.slice(2)] },
      messages: ['hubspotLifecycleOrder[1]: "LEAD" is listed twice'],
    },
    {
      name: 'names a handoff stage with no row to Salesforce',
      input: { ...D, handoffStage: 'sql' },
      messages: ['handoffStage: handoff stage "sql" has no row that syncs to Salesforce as a Lead Status'],
    },
  ])('refuses a dictionary that $name', ({ input, messages }) => {
    const result = validateStageDictionary(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toEqual(messages);
  });

  it('lists every shape problem at once, each with its path', () => {
    const result = validateStageDictionary({ rows: [{ stage: 'pipeline', direction: 'sideways' }], extra: true });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^rows\[0\]\.stage: /),
          expect.stringMatching(/^rows\[0\]\.direction: /),
          expect.stringMatching(/^\(root\): .*extra/),
        ]),
      );
    }
  });

  it('refuses an empty input', () => {
    expect(validateStageDictionary(undefined).ok).toBe(false);
  });
});

describe('decideHubSpotToSalesforce', () => {
  const mql: HubSpotContactSnapshot = { lifecyclestage: 'marketingqualifiedlead' };

  it.each<{ name: string; contact: HubSpotContactSnapshot; link: RecordLink; expected: object }>([
    {
      name: 'hands an MQL with no Lead to sales as a new Lead with Status "Open - Not Contacted"',
      contact: mql,
      link: {},
      expected: { action: 'upsert_lead', stage: 'mql', status: 'Open - Not Contacted', leadId: null, handoff: true },
    },
    {
      name: 'matches lifecyclestage case-insensitively',
      contact: { lifecyclestage: ' MarketingQualifiedLead ' },
      link: {},
      expected: { action: 'upsert_lead', stage: 'mql', handoff: true },
    },
    {
      name: 'ignores an MQL whose Lead already has the handoff status',
      contact: mql,
      link: { leadId: '00Q1', leadStatus: 'Open - Not Contacted' },
      expected: { action: 'none', reason: 'rule rows[1] (mql): Lead 00Q1 already has Status "Open - Not Contacted"' },
    },
    {
      name: 'refuses to reopen a Lead sales is working',
      contact: mql,
      link: { leadId: '00Q1', leadStatus: 'Working - Contacted' },
      expected: { action: 'none', reason: 'refused: backward move from sql (Lead Status "Working - Contacted") to mql' },
    },
    {
      name: 'refuses to reopen a rejected Lead',
      contact: { ...mql, hs_lead_status: 'UNQUALIFIED' },
      link: { leadId: '00Q1', leadStatus: 'Closed - Not Converted', leadFeedbackReason: 'No need' },
      expected: { action: 'none', reason: 'refused: backward move from rejected (Lead Status "Closed - Not Converted") to mql' },
    },
    {
      name: 'hands a recycled Lead back to sales when marketing qualifies it again',
      contact: mql,
      link: { leadId: '00Q1', leadStatus: 'Closed - Not Converted', leadFeedbackReason: 'Bad timing' },
      expected: { action: 'upsert_lead', stage: 'mql', status: 'Open - Not Contacted', leadId: '00Q1', handoff: true },
    },
    {
      name: 'leaves a converted Lead to Salesforce',
      contact: mql,
      link: { leadId: '00Q1', contactId: '0031' },
      expected: { action: 'none' },
    },
    {
      name: 'refuses to move an existing Lead whose Status it does not know',
      contact: mql,
      link: { leadId: '00Q1' },
      expected: { action: 'none', reason: 'refused: Lead 00Q1 exists but its current Status is unknown; read it before moving it' },
    },
    {
      name: 'refuses to move a Lead whose Status no stage names',
      contact: mql,
      link: { leadId: '00Q1', leadStatus: 'Nurturing' },
      expected: { action: 'none', reason: 'refused: Lead 00Q1 has Status "Nurturing", which no stage in the dictionary names' },
    },
    {
      name: 'does nothing for a plain lead',
      contact: { lifecyclestage: 'lead' },
      link: {},
      expected: { action: 'none', reason: 'no hubspot_to_salesforce rule matches lifecyclestage="lead"' },
    },
    {
      name: 'does nothing for a subscriber',
      contact: { lifecyclestage: 'subscriber' },
      link: {},
      expected: { action: 'none' },
    },
    {
      name: 'does nothing for a contact with no lifecyclestage',
      contact: {},
      link: {},
      expected: { action: 'none', reason: 'no hubspot_to_salesforce rule matches a contact with no lifecyclestage' },
    },
    {
      name: 'does not push SQL, which sales owns, by default',
      contact: { lifecyclestage: 'salesqualifiedlead' },
      link: { leadId: '00Q1', leadStatus: 'Open - Not Contacted' },
      expected: { action: 'none' },
    },
  ])('$name', ({ contact, link, expected }) => {
    expect(decideHubSpotToSalesforce(D, contact, link)).toMatchObject(expected);
  });

  it('moves a Lead forward without a handoff when an admin syncs SQL both ways', () => {
    const dictionary = { ...D, rows: D.rows.map((row): StageRow => (row.stage === 'sql' ? { ...row, direction: 'both' } : row)) };
    expect(validateStageDictionary(dictionary).ok).toBe(true);
    const decision = decideHubSpotToSalesforce(
      dictionary,
      { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' },
      { leadId: '00Q1', leadStatus: 'Open - Not Contacted' },
    );
    expect(decision).toEqual({
      action: 'upsert_lead',
      stage: 'sql',
      status: 'Working - Contacted',
      leadId: '00Q1',
      handoff: false,
      reason: 'rule rows[2] (sql): stage sql moves Lead 00Q1 from mql to Status "Working - Contacted"',
    });
  });
});

describe('decideSalesforceToHubSpot', () => {
  it.each<{
    name: string;
    current: HubSpotContactSnapshot;
    snapshot: SalesforceSnapshot;
    stage: SharedStage;
    steps: Array<Record<string, string>>;
  }>([
    {
      name: "maps Salesforce 'Working - Contacted' to HubSpot SQL",
      current: { lifecyclestage: 'marketingqualifiedlead' },
      snapshot: lead('Working - Contacted'),
      stage: 'sql',
      steps: [{ lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' }],
    },
    {
      name: 'sets only the lead status when the lifecycle is already right',
      current: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'OPEN' },
      snapshot: lead('Working - Contacted'),
      stage: 'sql',
      steps: [{ hs_lead_status: 'IN_PROGRESS' }],
    },
    {
      name: "maps 'Closed - Not Converted' with reason No need to UNQUALIFIED and keeps the lifecycle",
      current: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' },
      snapshot: lead('Closed - Not Converted', 'No need'),
      stage: 'rejected',
      steps: [{ hs_lead_status: 'UNQUALIFIED' }],
    },
    {
      name: "maps 'Closed - Not Converted' without a reason to rejected",
      current: { lifecyclestage: 'marketingqualifiedlead' },
      snapshot: lead('Closed - Not Converted'),
      stage: 'rejected',
      steps: [{ hs_lead_status: 'UNQUALIFIED' }],
    },
    {
      name: 'recycles a Bad timing Lead back to lead, clearing lifecyclestage first',
      current: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' },
      snapshot: lead('Closed - Not Converted', 'Bad timing'),
      stage: 'recycled',
      steps: [{ lifecyclestage: '' }, { lifecyclestage: 'lead', hs_lead_status: 'NEW' }],
    },
    {
      name: 'recycles a No budget Lead whatever the reason label case',
      current: { lifecyclestage: 'marketingqualifiedlead' },
      snapshot: lead('closed - not converted', 'NO BUDGET'),
      stage: 'recycled',
      steps: [{ lifecyclestage: '' }, { lifecyclestage: 'lead', hs_lead_status: 'NEW' }],
    },
    {
      name: 'recycles without clearing when the contact is already at lead',
      current: { lifecyclestage: 'lead', hs_lead_status: 'OPEN' },
      snapshot: lead('Closed - Not Converted', 'Bad timing'),
      stage: 'recycled',
      steps: [{ hs_lead_status: 'NEW' }],
    },
    {
      name: 'recycles a subscriber forward to lead without clearing',
      current: { lifecyclestage: 'subscriber' },
      snapshot: lead('Closed - Not Converted', 'Bad timing'),
      stage: 'recycled',
      steps: [{ lifecyclestage: 'lead', hs_lead_status: 'NEW' }],
    },
    {
      name: 'maps a converted Lead to opportunity',
      current: { lifecyclestage: 'salesqualifiedlead' },
      snapshot: { object: 'Lead', Status: 'Closed - Converted', IsConverted: true },
      stage: 'opportunity',
      steps: [{ lifecyclestage: 'opportunity' }],
    },
    {
      name: 'maps an open Opportunity to opportunity',
      current: { lifecyclestage: 'salesqualifiedlead' },
      snapshot: opportunity('open'),
      stage: 'opportunity',
      steps: [{ lifecyclestage: 'opportunity' }],
    },
    {
      name: 'maps a Closed Won Opportunity to customer',
      current: { lifecyclestage: 'opportunity' },
      snapshot: opportunity('won'),
      stage: 'customer',
      steps: [{ lifecyclestage: 'customer' }],
    },
    {
      name: 'marks a Closed Lost Opportunity lost and keeps the lifecycle',
      current: { lifecyclestage: 'opportunity' },
      snapshot: opportunity('lost'),
      stage: 'lost',
      steps: [{ sales_feedback_status: 'lost' }],
    },
    {
      name: 'sets the lifecycle of a contact that has none',
      current: { lifecyclestage: '' },
      snapshot: lead('Working - Contacted'),
      stage: 'sql',
      steps: [{ lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' }],
    },
  ])('$name', ({ current, snapshot, stage, steps }) => {
    const decision = decideSalesforceToHubSpot(D, current, snapshot);
    expect(decision).toMatchObject({ action: 'update', stage, steps, clearFirst: steps.length === 2 });
  });

  it.each<{ name: string; current: HubSpotContactSnapshot; snapshot: SalesforceSnapshot; reason: string | RegExp }>([
    {
      name: 'refuses to move a customer back to SQL',
      current: { lifecyclestage: 'customer' },
      snapshot: lead('Working - Contacted'),
      reason: 'refused: backward move from lifecyclestage "customer" to "salesqualifiedlead" (sql is not a rejected/recycled rule)',
    },
    {
      name: 'refuses to move an evangelist back to opportunity',
      current: { lifecyclestage: 'evangelist' },
      snapshot: opportunity('open'),
      reason: /^refused: backward move from lifecyclestage "evangelist" to "opportunity"/,
    },
    {
      name: 'refuses to rank a custom lifecycle stage it does not know',
      current: { lifecyclestage: 'partner' },
      snapshot: opportunity('won'),
      reason: 'refused: lifecyclestage "partner" → "customer" cannot be ranked (not in hubspotLifecycleOrder)',
    },
    {
      name: 'ignores the handoff status, which only syncs to Salesforce',
      current: { lifecyclestage: 'marketingqualifiedlead' },
      snapshot: lead('Open - Not Contacted'),
      reason: 'no salesforce_to_hubspot rule matches Lead Status "Open - Not Contacted"',
    },
    {
      name: 'ignores a Lead Status no rule names',
      current: { lifecyclestage: 'marketingqualifiedlead' },
      snapshot: lead('Nurturing'),
      reason: 'no salesforce_to_hubspot rule matches Lead Status "Nurturing"',
    },
    {
      name: 'writes nothing when HubSpot already shows the stage',
      current: { lifecyclestage: 'customer' },
      snapshot: opportunity('won'),
      reason: 'rule rows[7] (customer): HubSpot already shows lifecyclestage="customer"',
    },
  ])('$name', ({ current, snapshot, reason }) => {
    const decision = decideSalesforceToHubSpot(D, current, snapshot);
    expect(decision.action).toBe('none');
    if (typeof reason === 'string') expect(decision.reason).toBe(reason);
    else expect(decision.reason).toMatch(reason);
  });

  it('names the rule and the move in its reason', () => {
    const decision = decideSalesforceToHubSpot(D, { lifecyclestage: 'salesqualifiedlead' }, lead('Closed - Not Converted', 'Bad timing'));
    expect(decision.reason).toBe(
      'rule rows[4] (recycled): Lead Status "Closed - Not Converted" with reason "Bad timing" moves lifecyclestage back from "salesqualifiedlead" to "lead" by the explicit recycled rule (cleared first)',
    );
  });

  it('recycles a lost Opportunity when an admin adds that rule', () => {
    const dictionary = recyclingLostOpportunities(['Bad timing']);
    const lost = { ...opportunity('lost'), Loss_Reason__c: 'Bad timing' } as SalesforceSnapshot;
    expect(decideSalesforceToHubSpot(dictionary, { lifecyclestage: 'opportunity' }, lost)).toMatchObject({
      action: 'update',
      stage: 'recycled',
      clearFirst: true,
      steps: [{ lifecyclestage: '' }, { lifecyclestage: 'lead', hs_lead_status: 'NEW' }],
    });
    expect(decideSalesforceToHubSpot(dictionary, { lifecyclestage: 'opportunity' }, opportunity('lost'))).toMatchObject({
      stage: 'lost',
    });
  });
});

describe('stage lookups', () => {
  it.each<{ snapshot: SalesforceSnapshot; stage: SharedStage | null }>([
    { snapshot: lead('Open - Not Contacted'), stage: 'mql' },
    { snapshot: lead('Working - Contacted'), stage: 'sql' },
    { snapshot: lead('Closed - Not Converted', 'Competitor'), stage: 'rejected' },
    { snapshot: lead('Closed - Not Converted', 'Bad timing'), stage: 'recycled' },
    { snapshot: { object: 'Lead', Status: 'Closed - Converted', IsConverted: true }, stage: 'opportunity' },
    { snapshot: opportunity('won'), stage: 'customer' },
    { snapshot: lead('Nurturing'), stage: null },
  ])('finds Salesforce $snapshot.object $snapshot.Status at stage $stage', ({ snapshot, stage }) => {
    expect(findStageForSalesforce(D, snapshot)).toBe(stage);
  });

  it.each<{ contact: HubSpotContactSnapshot; stage: SharedStage | null }>([
    { contact: { lifecyclestage: 'lead' }, stage: 'lead' },
    { contact: { lifecyclestage: 'lead', hs_lead_status: 'NEW' }, stage: 'recycled' },
    { contact: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' }, stage: 'sql' },
    { contact: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'UNQUALIFIED' }, stage: 'rejected' },
    { contact: { lifecyclestage: 'subscriber' }, stage: null },
  ])('finds HubSpot $contact at stage $stage (the most specific row wins)', ({ contact, stage }) => {
    expect(findStageForHubSpot(D, contact)).toBe(stage);
  });
});

describe('ranks and order tolerance', () => {
  it.each<[SharedStage, SharedStage, number]>([
    ['lead', 'mql', -1],
    ['sql', 'mql', 1],
    ['customer', 'customer', 0],
    ['opportunity', 'customer', -1],
    ['recycled', 'lead', 0],
    ['rejected', 'mql', 0],
    ['lost', 'opportunity', 0],
  ])('ranks %s against %s as %i', (a, b, sign) => {
    expect(Math.sign(compareStageRank(D, a, b))).toBe(sign);
  });

  it.each<[SharedStage | null, SharedStage, boolean]>([
    [null, 'mql', true],
    ['lead', 'mql', true],
    ['mql', 'sql', true],
    ['sql', 'mql', false],
    ['customer', 'opportunity', false],
    ['mql', 'mql', false],
    ['sql', 'rejected', false],
    ['mql', 'recycled', false],
    ['recycled', 'mql', true],
    ['rejected', 'mql', false],
    ['rejected', 'sql', true],
    ['lost', 'customer', true],
  ])('treats %s → %s as forward: %s', (from, to, forward) => {
    expect(isForwardMove(D, from, to)).toBe(forward);
  });

  it.each<[string, number | null]>([
    ['subscriber', 0],
    ['MarketingQualifiedLead', 2],
    ['other', 7],
    ['partner', null],
  ])('ranks lifecyclestage %s at %s', (value, rank) => {
    expect(lifecycleRank(D.hubspotLifecycleOrder, value)).toBe(rank);
  });

  it.each<[number, number | null | undefined, boolean]>([
    [1_000, 2_000, true],
    [2_000, 2_000, false],
    [3_000, 2_000, false],
    [1_000, null, false],
    [1_000, undefined, false],
  ])('treats an event at %i after one applied at %s as stale: %s', (eventAt, lastApplied, stale) => {
    expect(isStale(eventAt, lastApplied)).toBe(stale);
  });
});

describe('field sync rules', () => {
  const T1 = 1_000;
  const T2 = 2_000;
  it.each<{
    name: string;
    rule: FieldSyncRule;
    hubspot: [string | null, number | null];
    salesforce: [string | null, number | null];
    direction: OneWayDirection;
    expected: { write: false } | { write: true; value: string | null };
  }>([
    {
      name: 'prefer_salesforce_unless_blank fills a blank Salesforce field from HubSpot',
      rule: 'prefer_salesforce_unless_blank',
      hubspot: ['Acme', T1],
      salesforce: [null, null],
      direction: 'hubspot_to_salesforce',
      expected: { write: true, value: 'Acme' },
    },
    {
      name: 'prefer_salesforce_unless_blank treats whitespace as blank',
      rule: 'prefer_salesforce_unless_blank',
      hubspot: ['Acme', T1],
      salesforce: ['  ', null],
      direction: 'hubspot_to_salesforce',
      expected: { write: true, value: 'Acme' },
    },
    {
      name: 'prefer_salesforce_unless_blank never overwrites a Salesforce value from HubSpot',
      rule: 'prefer_salesforce_unless_blank',
      hubspot: ['Acme', T2],
      salesforce: ['Acme Corp', T1],
      direction: 'hubspot_to_salesforce',
      expected: { write: false },
    },
    {
      name: 'prefer_salesforce_unless_blank lets a Salesforce value overwrite HubSpot',
      rule: 'prefer_salesforce_unless_blank',
      hubspot: ['Acme', T2],
      salesforce: ['Acme Corp', T1],
      direction: 'salesforce_to_hubspot',
      expected: { write: true, value: 'Acme Corp' },
    },
    {
      name: 'prefer_salesforce_unless_blank lets a newer Salesforce deletion clear HubSpot',
      rule: 'prefer_salesforce_unless_blank',
      hubspot: ['Acme', T1],
      salesforce: [null, T2],
      direction: 'salesforce_to_hubspot',
      expected: { write: true, value: null },
    },
    {
      name: 'prefer_salesforce_unless_blank does not refill after a newer Salesforce deletion',
      rule: 'prefer_salesforce_unless_blank',
      hubspot: ['Acme', T1],
      salesforce: [null, T2],
      direction: 'hubspot_to_salesforce',
      expected: { write: false },
    },
    {
      name: 'prefer_salesforce_unless_blank keeps HubSpot when Salesforce was never set',
      rule: 'prefer_salesforce_unless_blank',
      hubspot: ['Acme', T2],
      salesforce: [null, null],
      direction: 'salesforce_to_hubspot',
      expected: { write: false },
    },
    {
      name: 'prefer_salesforce_unless_blank writes nothing when both are blank',
      rule: 'prefer_salesforce_unless_blank',
      hubspot: [null, null],
      salesforce: [null, null],
      direction: 'hubspot_to_salesforce',
      expected: { write: false },
    },
    {
      name: 'always_salesforce never writes to Salesforce',
      rule: 'always_salesforce',
      hubspot: ['Acme', T2],
      salesforce: [null, null],
      direction: 'hubspot_to_salesforce',
      expected: { write: false },
    },
    {
      name: 'always_salesforce overwrites HubSpot',
      rule: 'always_salesforce',
      hubspot: ['Acme', T2],
      salesforce: ['Acme Corp', T1],
      direction: 'salesforce_to_hubspot',
      expected: { write: true, value: 'Acme Corp' },
    },
    {
      name: 'always_salesforce clears HubSpot on a Salesforce deletion',
      rule: 'always_salesforce',
      hubspot: ['Acme', T2],
      salesforce: ['', T1],
      direction: 'salesforce_to_hubspot',
      expected: { write: true, value: null },
    },
    {
      name: 'always_salesforce writes nothing when the values match',
      rule: 'always_salesforce',
      hubspot: ['Acme', T1],
      salesforce: ['Acme', T2],
      direction: 'salesforce_to_hubspot',
      expected: { write: false },
    },
    {
      name: 'two_way writes the newer HubSpot value to Salesforce',
      rule: 'two_way',
      hubspot: ['new', T2],
      salesforce: ['old', T1],
      direction: 'hubspot_to_salesforce',
      expected: { write: true, value: 'new' },
    },
    {
      name: 'two_way does not write the older HubSpot value',
      rule: 'two_way',
      hubspot: ['old', T1],
      salesforce: ['new', T2],
      direction: 'hubspot_to_salesforce',
      expected: { write: false },
    },
    {
      name: 'two_way writes the newer Salesforce value to HubSpot',
      rule: 'two_way',
      hubspot: ['old', T1],
      salesforce: ['new', T2],
      direction: 'salesforce_to_hubspot',
      expected: { write: true, value: 'new' },
    },
    {
      name: 'two_way propagates a newer deletion',
      rule: 'two_way',
      hubspot: [null, T2],
      salesforce: ['old', T1],
      direction: 'hubspot_to_salesforce',
      expected: { write: true, value: null },
    },
    {
      name: 'two_way lets Salesforce win an exact tie',
      rule: 'two_way',
      hubspot: ['a', T1],
      salesforce: ['b', T1],
      direction: 'salesforce_to_hubspot',
      expected: { write: true, value: 'b' },
    },
    {
      name: 'two_way does not write HubSpot on an exact tie',
      rule: 'two_way',
      hubspot: ['a', T1],
      salesforce: ['b', T1],
      direction: 'hubspot_to_salesforce',
      expected: { write: false },
    },
    {
      name: 'dont_sync never writes to Salesforce',
      rule: 'dont_sync',
      hubspot: ['a', T2],
      salesforce: [null, null],
      direction: 'hubspot_to_salesforce',
      expected: { write: false },
    },
    {
      name: 'dont_sync never writes to HubSpot',
      rule: 'dont_sync',
      hubspot: [null, null],
      salesforce: ['b', T2],
      direction: 'salesforce_to_hubspot',
      expected: { write: false },
    },
  ])('$name', ({ rule, hubspot, salesforce, direction, expected }) => {
    const resolution = resolveFieldValue(
      rule,
      { value: hubspot[0], at: hubspot[1] },
      { value: salesforce[0], at: salesforce[1] },
      direction,
    );
    expect(resolution).toMatchObject(expected);
    expect(resolution.reason).toMatch(new RegExp(`^${rule}: `));
  });

  it('accepts the default field mappings', () => {
    expect(validateFieldMappings(DEFAULT_FIELD_MAPPINGS)).toEqual({ ok: true, value: DEFAULT_FIELD_MAPPINGS });
    expect(DEFAULT_FIELD_MAPPINGS.map((mapping) => `${mapping.hubspotProperty}↔${mapping.salesforceField}`)).toEqual([
      'email↔Email',
      'firstname↔FirstName',
      'lastname↔LastName',
      'company↔Company',
      'phone↔Phone',
      'jobtitle↔Title',
    ]);
  });

  it('refuses a mapping list that maps a property or a field twice, or names an unknown rule', () => {
    const result = validateFieldMappings([
      ...DEFAULT_FIELD_MAPPINGS,
      { hubspotProperty: 'Email', salesforceField: 'Other_Email__c', rule: 'two_way' },
      { hubspotProperty: 'mobilephone', salesforceField: 'phone', rule: 'two_way' },
      { hubspotProperty: 'website', salesforceField: 'Website', rule: 'sometimes' },
    ]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toEqual([expect.stringMatching(/^\[8\]\.rule: /)]);
    }
    const duplicates = validateFieldMappings([
      ...DEFAULT_FIELD_MAPPINGS,
      { hubspotProperty: 'Email', salesforceField: 'Other_Email__c', rule: 'two_way' },
      { hubspotProperty: 'mobilephone', salesforceField: 'phone', rule: 'two_way' },
    ]);
    expect(duplicates).toEqual({
      ok: false,
      error: [
        '[6].hubspotProperty: HubSpot property "Email" is already mapped by [0]',
        '[7].salesforceField: Salesforce field "phone" is already mapped by [4]',
      ],
    });
  });
});
