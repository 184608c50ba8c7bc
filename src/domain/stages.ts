/**
 * The stage dictionary (docs/architecture.md §2): what each shared funnel stage means in HubSpot and in
 * Salesforce, which way each mapping syncs, and the pure decisions built on it. Invariant 4:
 * lifecycle never moves backwards except through an explicit rejected/recycled rule.
 */
import { z } from 'zod';
import { assertNever, err, ok, type Result } from './result.ts';
import { formatIssuePath, isBlank, presentOrNull, sameValue, zodIssueMessages } from './validation.ts';

/** The default ranked funnel: lead < mql < sql < opportunity < customer. A dictionary may name its own. */
export const DEFAULT_FUNNEL_STAGES = ['lead', 'mql', 'sql', 'opportunity', 'customer'] as const;

/** Side stages, reached only by explicit rules; the code gives them meaning (feedback outcomes). */
export const SIDE_STAGES = ['rejected', 'recycled', 'lost'] as const;
/** A side stage. */
export type SideStage = (typeof SIDE_STAGES)[number];

/** The default dictionary's stages, funnel stages first, then the side stages where they happen. */
export const SHARED_STAGES = ['lead', 'mql', 'sql', 'rejected', 'recycled', 'opportunity', 'customer', 'lost'] as const;
/** A shared stage name, the same word for marketing and sales: a funnel stage of the dictionary or a side stage. */
export type SharedStage = string;
/** A stage with a place in the dictionary's ranked funnel. */
export type FunnelStage = string;

/** Side stages that may move HubSpot lifecycle backwards (clear first, then set). */
export const BACKWARD_RULE_STAGES: readonly SharedStage[] = ['rejected', 'recycled'];

/** Which way a dictionary row syncs. */
export const SYNC_DIRECTIONS = ['hubspot_to_salesforce', 'salesforce_to_hubspot', 'both'] as const;
/** A dictionary row's sync direction. */
export type SyncDirection = (typeof SYNC_DIRECTIONS)[number];
/** One direction of travel for a single write. */
export type OneWayDirection = Exclude<SyncDirection, 'both'>;

/** HubSpot's default `lifecyclestage` internal values, in the order HubSpot enforces. */
export const DEFAULT_HUBSPOT_LIFECYCLE_STAGES = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
] as const;

/** States of a Salesforce Opportunity as derived from `IsClosed` / `IsWon`. */
export const OPPORTUNITY_STATES = ['open', 'won', 'lost'] as const;
/** An Opportunity state. */
export type OpportunityState = (typeof OPPORTUNITY_STATES)[number];

const nonBlankText = z.string().trim().min(1, 'must not be blank');
const stageName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be a stage name in lowercase letters, digits and _');

/** What a stage means in HubSpot: the contact properties that identify (and set) it. */
export const HubSpotStageMeaningSchema = z
  .object({
    lifecyclestage: nonBlankText.optional(),
    hs_lead_status: nonBlankText.optional(),
    sales_feedback_status: nonBlankText.optional(),
  })
  .strict();
/** A HubSpot stage meaning. */
export type HubSpotStageMeaning = z.output<typeof HubSpotStageMeaningSchema>;

const SalesforceLeadMeaningSchema = z
  .object({
    object: z.literal('Lead'),
    status: nonBlankText.optional(),
    isConverted: z.boolean().optional(),
    /** `Feedback_Reason__c` labels that select this row among rows with the same Status. */
    reasons: z.array(nonBlankText).min(1).optional(),
  })
  .strict();

const SalesforceOpportunityMeaningSchema = z
  .object({
    object: z.literal('Opportunity'),
    state: z.enum(OPPORTUNITY_STATES),
    /** `Loss_Reason__c` labels that select this row among rows with the same state. */
    reasons: z.array(nonBlankText).min(1).optional(),
  })
  .strict();

/** What a stage means in Salesforce: a Lead Status / converted flag, or an Opportunity state. */
export const SalesforceStageMeaningSchema = z.discriminatedUnion('object', [
  SalesforceLeadMeaningSchema,
  SalesforceOpportunityMeaningSchema,
]);
/** A Salesforce stage meaning. */
export type SalesforceStageMeaning = z.output<typeof SalesforceStageMeaningSchema>;

/** One dictionary row: a shared stage, its meaning on each side (null = none) and its direction. */
export const StageRowSchema = z
  .object({
    stage: stageName,
    hubspot: HubSpotStageMeaningSchema.nullable().default(null),
    salesforce: SalesforceStageMeaningSchema.nullable().default(null),
    direction: z.enum(SYNC_DIRECTIONS),
  })
  .strict();
/** A dictionary row. */
export type StageRow = z.output<typeof StageRowSchema>;

// A rejected lead stays at the handoff, a recycled lead is back at lead, a lost deal stays at opportunity.
const DEFAULT_SIDE_STAGE_RANKS: Readonly<Record<SideStage, FunnelStage>> = { rejected: 'mql', recycled: 'lead', lost: 'opportunity' };

/** The admin-editable stage dictionary, with every cross-row rule checked. */
export const StageDictionarySchema = z
  .object({
    handoffStage: stageName.default('mql'),
    /** The ranked funnel, first stage to last; the report counts and converts along it. */
    funnel: z
      .array(stageName)
      .min(2)
      .default([...DEFAULT_FUNNEL_STAGES]),
    /** The funnel stage each side stage ranks at (a recycled lead is back at lead, a lost deal stays at opportunity). */
    sideStageRanks: z
      .object({ rejected: stageName, recycled: stageName, lost: stageName })
      .strict()
      .default({ ...DEFAULT_SIDE_STAGE_RANKS }),
    hubspotLifecycleOrder: z
      .array(nonBlankText)
      .min(1)
      .default([...DEFAULT_HUBSPOT_LIFECYCLE_STAGES]),
    rows: z.array(StageRowSchema).min(1),
  })
  .strict()
  .superRefine((dictionary, context) => {
    for (const problem of findDictionaryProblems(dictionary)) {
      context.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    }
  });
/** A validated stage dictionary. */
export type StageDictionary = z.output<typeof StageDictionarySchema>;

/** The defaults of docs/architecture.md §2. */
export const DEFAULT_STAGE_DICTIONARY: StageDictionary = {
  handoffStage: 'mql',
  funnel: [...DEFAULT_FUNNEL_STAGES],
  sideStageRanks: { ...DEFAULT_SIDE_STAGE_RANKS },
  hubspotLifecycleOrder: [...DEFAULT_HUBSPOT_LIFECYCLE_STAGES],
  rows: [
    // `lead` lives only in HubSpot: nothing in Salesforce maps to it, so it never triggers a write;
    // the row names its HubSpot meaning (the target a recycled lead returns to).
    { stage: 'lead', direction: 'salesforce_to_hubspot', hubspot: { lifecyclestage: 'lead' }, salesforce: null },
    {
      stage: 'mql',
      direction: 'hubspot_to_salesforce',
      hubspot: { lifecyclestage: 'marketingqualifiedlead' },
      salesforce: { object: 'Lead', status: 'Open - Not Contacted', isConverted: false },
    },
    {
      stage: 'sql',
      direction: 'salesforce_to_hubspot',
      hubspot: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' },
      salesforce: { object: 'Lead', status: 'Working - Contacted' },
    },
    {
      stage: 'rejected',
      direction: 'salesforce_to_hubspot',
      hubspot: { hs_lead_status: 'UNQUALIFIED' },
      salesforce: { object: 'Lead', status: 'Closed - Not Converted' },
    },
    {
      stage: 'recycled',
      direction: 'salesforce_to_hubspot',
      hubspot: { lifecyclestage: 'lead', hs_lead_status: 'NEW' },
      salesforce: { object: 'Lead', status: 'Closed - Not Converted', reasons: ['Bad timing', 'No budget'] },
    },
    {
      stage: 'opportunity',
      direction: 'salesforce_to_hubspot',
      hubspot: { lifecyclestage: 'opportunity' },
      salesforce: { object: 'Lead', isConverted: true },
    },
    {
      stage: 'opportunity',
      direction: 'salesforce_to_hubspot',
      hubspot: { lifecyclestage: 'opportunity' },
      salesforce: { object: 'Opportunity', state: 'open' },
    },
    {
      stage: 'customer',
      direction: 'salesforce_to_hubspot',
      hubspot: { lifecyclestage: 'customer' },
      salesforce: { object: 'Opportunity', state: 'won' },
    },
    {
      stage: 'lost',
      direction: 'salesforce_to_hubspot',
      hubspot: { sales_feedback_status: 'lost' },
      salesforce: { object: 'Opportunity', state: 'lost' },
    },
  ],
};

/** Validates an admin-supplied dictionary; the error lists every problem, each naming its row. */
export function validateStageDictionary(input: unknown): Result<StageDictionary, string[]> {
  const parsed = StageDictionarySchema.safeParse(input);
  if (parsed.success) return ok(parsed.data);
  // A shape problem stops the cross-row checks; unknown stage names are still listed with it.
  const names = StageNamesSchema.safeParse(input);
  const unknown = names.success ? names.data.rows.flatMap((row, index) => unknownStageProblems(names.data.funnel, row.stage, index)) : [];
  const messages = [...zodIssueMessages(parsed.error), ...unknown.map((problem) => `${formatIssuePath(problem.path)}: ${problem.message}`)];
  return err([...new Set(messages)]);
}

const StageNamesSchema = z.looseObject({
  funnel: z.array(z.string()).catch([...DEFAULT_FUNNEL_STAGES]),
  rows: z.array(z.looseObject({ stage: z.string().catch('') })),
});

// ---------------------------------------------------------------------------------------------
// Dictionary checks

interface DictionaryProblem {
  readonly path: Array<string | number>;
  readonly message: string;
}

const HUBSPOT_MEANING_KEYS = ['lifecyclestage', 'hs_lead_status', 'sales_feedback_status'] as const;

function findDictionaryProblems(dictionary: StageDictionary): DictionaryProblem[] {
  return [
    ...lifecycleOrderProblems(dictionary.hubspotLifecycleOrder),
    ...funnelProblems(dictionary),
    ...dictionary.rows.flatMap((row, index) => unknownStageProblems(dictionary.funnel, row.stage, index)),
    ...dictionary.rows.flatMap((row, index) => rowProblems(dictionary, row, index)),
    ...dictionary.rows.flatMap((row, index) => clashProblems(dictionary.rows, row, index)),
    ...handoffProblems(dictionary),
  ];
}

function unknownStageProblems(funnel: readonly string[], stage: string, index: number): DictionaryProblem[] {
  if (stage === '' || funnel.includes(stage) || isSideStage(stage)) return [];
  return [
    {
      path: ['rows', index, 'stage'],
      message: `stage "${stage}" is neither a funnel stage (${funnel.join(', ')}) nor a side stage (${SIDE_STAGES.join(', ')})`,
    },
  ];
}

function lifecycleOrderProblems(order: readonly string[]): DictionaryProblem[] {
  return order.flatMap((value, index) =>
    order.findIndex((other) => sameValue(other, value)) === index
      ? []
      : [{ path: ['hubspotLifecycleOrder', index], message: `"${value}" is listed twice` }],
  );
}

/** The funnel names each stage once, side stages stay out of it and rank at one of its stages. */
function funnelProblems(dictionary: StageDictionary): DictionaryProblem[] {
  const problems: DictionaryProblem[] = [];
  dictionary.funnel.forEach((stage, index) => {
    if (isSideStage(stage)) {
      problems.push({
        path: ['funnel', index],
        message: `"${stage}" is a side stage, reached only by an explicit rule; it has no place in the funnel`,
      });
    } else if (dictionary.funnel.indexOf(stage) !== index) {
      problems.push({ path: ['funnel', index], message: `"${stage}" is listed twice` });
    }
  });
  for (const side of SIDE_STAGES) {
    const at = dictionary.sideStageRanks[side];
    if (!dictionary.funnel.includes(at)) {
      problems.push({ path: ['sideStageRanks', side], message: `"${at}" is not a stage of the funnel` });
    }
  }
  return problems;
}

function rowProblems(dictionary: StageDictionary, row: StageRow, index: number): DictionaryProblem[] {
  const path = ['rows', index];
  const label = `stage "${row.stage}"`;
  const problems: string[] = [];
  if (syncsToSalesforce(row.direction)) {
    if (row.salesforce === null) {
      problems.push(`${label} syncs ${row.direction} but has no Salesforce meaning`);
    } else if (row.salesforce.object !== 'Lead' || row.salesforce.status === undefined) {
      problems.push(
        `${label} syncs ${row.direction} but its Salesforce meaning is not a Lead Status; the app only creates and updates Leads`,
      );
    } else if (row.salesforce.isConverted === true || row.salesforce.reasons !== undefined) {
      problems.push(`${label} syncs ${row.direction} but its Salesforce meaning needs conversion or a feedback reason, which sales sets`);
    }
  }
  if (syncsToHubSpot(row.direction) && !hasHubSpotMeaning(row.hubspot)) {
    problems.push(`${label} syncs ${row.direction} but has no HubSpot meaning`);
  }
  const lifecycle = row.hubspot?.lifecyclestage;
  if (lifecycle !== undefined && lifecycleRank(dictionary.hubspotLifecycleOrder, lifecycle) === null) {
    problems.push(`${label} uses HubSpot lifecyclestage "${lifecycle}", which is not in hubspotLifecycleOrder`);
  }
  return problems.map((message) => ({ path, message }));
}

/**
 * One system value must not name two different stages (same stage twice is fine: two rows may lead
 * to the same stage, e.g. a converted Lead and an open Opportunity). Each conflict is reported once,
 * on the later row, naming the first earlier row it collides with.
 */
function clashProblems(rows: readonly StageRow[], row: StageRow, index: number): DictionaryProblem[] {
  const earlierRows = rows.slice(0, index);
  const clash = (meaning: string, collides: (other: StageRow) => boolean): DictionaryProblem[] => {
    const at = earlierRows.findIndex((other) => other.stage !== row.stage && collides(other));
    if (at === -1) return [];
    const message = `stage "${row.stage}" maps ${meaning}, which rows[${at}] already maps to stage "${earlierRows[at]?.stage ?? ''}"`;
    return [{ path: ['rows', index], message }];
  };
  const hubspotMeaning = row.hubspot;
  const salesforceMeaning = row.salesforce;
  return [
    ...(hasHubSpotMeaning(hubspotMeaning)
      ? clash(
          describeHubSpotMeaning(hubspotMeaning),
          (other) => hasHubSpotMeaning(other.hubspot) && sameHubSpotMeaning(hubspotMeaning, other.hubspot),
        )
      : []),
    ...(salesforceMeaning === null
      ? []
      : clash(
          describeSalesforceMeaning(salesforceMeaning),
          (other) => other.salesforce !== null && overlappingSalesforceMeaning(salesforceMeaning, other.salesforce),
        )),
  ];
}

function handoffProblems(dictionary: StageDictionary): DictionaryProblem[] {
  const handoffRow = dictionary.rows.find(
    (row) => row.stage === dictionary.handoffStage && syncsToSalesforce(row.direction) && row.salesforce?.object === 'Lead',
  );
  if (handoffRow !== undefined) return [];
  return [
    {
      path: ['handoffStage'],
      message: `handoff stage "${dictionary.handoffStage}" has no row that syncs to Salesforce as a Lead Status`,
    },
  ];
}

function hasHubSpotMeaning(meaning: HubSpotStageMeaning | null): meaning is HubSpotStageMeaning {
  return meaning !== null && HUBSPOT_MEANING_KEYS.some((key) => meaning[key] !== undefined);
}

function sameOptional(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return sameValue(a, b);
}

function sameHubSpotMeaning(a: HubSpotStageMeaning, b: HubSpotStageMeaning): boolean {
  return HUBSPOT_MEANING_KEYS.every((key) => sameOptional(a[key], b[key]));
}

function reasonsOverlap(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.some((reason) => b.some((other) => sameValue(reason, other)));
}

function overlappingSalesforceMeaning(a: SalesforceStageMeaning, b: SalesforceStageMeaning): boolean {
  if (a.object === 'Lead' && b.object === 'Lead') {
    return sameOptional(a.status, b.status) && a.isConverted === b.isConverted && reasonsOverlap(a.reasons, b.reasons);
  }
  if (a.object === 'Opportunity' && b.object === 'Opportunity') {
    return a.state === b.state && reasonsOverlap(a.reasons, b.reasons);
  }
  return false;
}

function describeHubSpotValues(meaning: HubSpotStageMeaning): string {
  return HUBSPOT_MEANING_KEYS.flatMap((key) => {
    const value = meaning[key];
    return value === undefined ? [] : [`${key}="${value}"`];
  }).join(' + ');
}

function describeHubSpotMeaning(meaning: HubSpotStageMeaning): string {
  return `HubSpot ${describeHubSpotValues(meaning)}`;
}

function describeSalesforceMeaning(meaning: SalesforceStageMeaning): string {
  const reasons = meaning.reasons === undefined ? '' : ` with reason ${meaning.reasons.map((r) => `"${r}"`).join(' / ')}`;
  switch (meaning.object) {
    case 'Lead': {
      const status = meaning.status === undefined ? 'any Status' : `Status "${meaning.status}"`;
      const converted = meaning.isConverted === undefined ? '' : meaning.isConverted ? ' (converted)' : ' (not converted)';
      return `Salesforce Lead ${status}${converted}${reasons}`;
    }
    case 'Opportunity':
      return `Salesforce Opportunity ${meaning.state}${reasons}`;
    default:
      return assertNever(meaning);
  }
}

// ---------------------------------------------------------------------------------------------
// Ranks

/** Every stage the dictionary names: its funnel, then the side stages. */
export function stagesOf(dictionary: Pick<StageDictionary, 'funnel'>): SharedStage[] {
  return [...dictionary.funnel, ...SIDE_STAGES];
}

export function isSideStage(stage: SharedStage): stage is SideStage {
  return (SIDE_STAGES as readonly string[]).includes(stage);
}

/** A stage's place in the funnel (side stages rank where they happen), or null for a stage the dictionary does not name. */
export function stageRank(dictionary: Pick<StageDictionary, 'funnel' | 'sideStageRanks'>, stage: SharedStage): number | null {
  const funnelStage = isSideStage(stage) ? dictionary.sideStageRanks[stage] : stage;
  const index = dictionary.funnel.indexOf(funnelStage);
  return index === -1 ? null : index;
}

/** Compares two stages by funnel rank (negative: a before b); side stages rank where they happen. */
export function compareStageRank(dictionary: Pick<StageDictionary, 'funnel' | 'sideStageRanks'>, a: SharedStage, b: SharedStage): number {
  return (stageRank(dictionary, a) ?? -1) - (stageRank(dictionary, b) ?? -1);
}

/** True when `to` is a funnel stage strictly after `from`; side stages are never forward moves. */
export function isForwardMove(
  dictionary: Pick<StageDictionary, 'funnel' | 'sideStageRanks'>,
  from: SharedStage | null,
  to: SharedStage,
): boolean {
  if (!isFunnelStage(dictionary, to)) return false;
  return from === null || compareStageRank(dictionary, to, from) > 0;
}

/** True for the stages of the dictionary's funnel. */
export function isFunnelStage(dictionary: Pick<StageDictionary, 'funnel'>, stage: SharedStage): boolean {
  return dictionary.funnel.includes(stage);
}

// ---------------------------------------------------------------------------------------------
// How the report names the funnel

/** A funnel stage as the report shows it: the count's key (`leads`) and the words for it. */
export interface FunnelColumn {
  readonly stage: FunnelStage;
  /** The count's key in report rows and CSV headers: `leads`, `mqls`, `opportunities`. */
  readonly countKey: string;
  /** Plural heading: `Leads`, `MQLs`. */
  readonly plural: string;
  /** Short name in a transition: `Lead`, `MQL`, `Opp.`. */
  readonly short: string;
}

/** One step of the funnel (or first to last), with its key in report rows and CSV headers. */
export interface FunnelStep {
  readonly from: FunnelColumn;
  readonly to: FunnelColumn;
  /** `leadToMql`. */
  readonly key: string;
  /** `lead_to_mql`. */
  readonly snakeKey: string;
  /** True for first stage → last stage, which spans the whole funnel. */
  readonly overall: boolean;
}

// Acronyms keep their capitals; long words may have a short form for table headings.
const ACRONYM_STAGES: ReadonlySet<string> = new Set(['mql', 'sql']);
const SHORT_STAGE_NAMES: Readonly<Record<string, string>> = { opportunity: 'Opp.' };

const pluralOf = (word: string): string => (/[^aeiou]y$/.test(word) ? `${word.slice(0, -1)}ies` : `${word}s`);
const wordsOf = (stage: string): string =>
  ACRONYM_STAGES.has(stage) ? stage.toUpperCase() : stage.charAt(0).toUpperCase() + stage.slice(1).replaceAll('_', ' ');
const camelOf = (stage: string): string => stage.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());

/** The report's columns of the dictionary's funnel, first stage to last. */
export function funnelColumns(dictionary: Pick<StageDictionary, 'funnel'>): FunnelColumn[] {
  return dictionary.funnel.map((stage) => {
    const words = wordsOf(stage);
    const plural = ACRONYM_STAGES.has(stage) ? `${words}s` : pluralOf(words);
    return { stage, countKey: pluralOf(camelOf(stage)), plural, short: SHORT_STAGE_NAMES[stage] ?? words };
  });
}

/** Each step of the funnel in order, then first stage → last stage. */
export function funnelSteps(dictionary: Pick<StageDictionary, 'funnel'>): FunnelStep[] {
  const columns = funnelColumns(dictionary);
  const step = (from: FunnelColumn, to: FunnelColumn, overall: boolean): FunnelStep => ({
    from,
    to,
    key: `${camelOf(from.stage)}To${camelOf(to.stage).charAt(0).toUpperCase()}${camelOf(to.stage).slice(1)}`,
    snakeKey: `${from.stage}_to_${to.stage}`,
    overall,
  });
  const steps = columns.slice(1).map((to, index) => step(columns[index] ?? to, to, false));
  const first = columns[0];
  const last = columns.at(-1);
  return first === undefined || last === undefined ? steps : [...steps, step(first, last, true)];
}

/** The position of a HubSpot lifecyclestage value in the portal's order, or null when unknown. */
export function lifecycleRank(order: readonly string[], lifecyclestage: string): number | null {
  const index = order.findIndex((value) => sameValue(value, lifecyclestage));
  return index === -1 ? null : index;
}

/** True when an event is older than the value already applied (equal times are not stale). */
export function isStale(eventAtMs: number, lastAppliedAtMs: number | null | undefined): boolean {
  return lastAppliedAtMs !== null && lastAppliedAtMs !== undefined && eventAtMs < lastAppliedAtMs;
}

// ---------------------------------------------------------------------------------------------
// Snapshots and matching

/** The HubSpot contact properties the stage rules read. */
export interface HubSpotContactSnapshot {
  readonly lifecyclestage?: string | null | undefined;
  readonly hs_lead_status?: string | null | undefined;
  readonly sales_feedback_status?: string | null | undefined;
  readonly [property: string]: string | null | undefined;
}

/** The Salesforce Lead fields the stage rules read. */
export interface SalesforceLeadSnapshot {
  readonly object: 'Lead';
  readonly Status: string;
  readonly IsConverted: boolean;
  readonly Feedback_Reason__c?: string | null | undefined;
}

/** The Salesforce Opportunity fields the stage rules read. */
export interface SalesforceOpportunitySnapshot {
  readonly object: 'Opportunity';
  readonly StageName: string;
  readonly IsWon: boolean;
  readonly IsClosed: boolean;
  readonly Amount?: number | null | undefined;
  readonly Loss_Reason__c?: string | null | undefined;
}

/** A Salesforce record as the stage rules see it. */
export type SalesforceSnapshot = SalesforceLeadSnapshot | SalesforceOpportunitySnapshot;

/** The state of an Opportunity from its read-only `IsClosed` / `IsWon` flags. */
export function opportunityState(snapshot: Pick<SalesforceOpportunitySnapshot, 'IsWon' | 'IsClosed'>): OpportunityState {
  if (snapshot.IsWon) return 'won';
  return snapshot.IsClosed ? 'lost' : 'open';
}

function hubspotMeaningMatches(meaning: HubSpotStageMeaning, contact: HubSpotContactSnapshot): boolean {
  return HUBSPOT_MEANING_KEYS.every((key) => {
    const wanted = meaning[key];
    if (wanted === undefined) return true;
    const actual = presentOrNull(contact[key]);
    return actual !== null && sameValue(actual, wanted);
  });
}

function hubspotSpecificity(meaning: HubSpotStageMeaning): number {
  return HUBSPOT_MEANING_KEYS.filter((key) => meaning[key] !== undefined).length;
}

function reasonMatches(reasons: readonly string[] | undefined, actual: string | null | undefined): boolean {
  if (reasons === undefined) return true;
  const present = presentOrNull(actual);
  return present !== null && reasons.some((reason) => sameValue(reason, present));
}

function salesforceMeaningMatches(meaning: SalesforceStageMeaning, snapshot: SalesforceSnapshot): boolean {
  switch (meaning.object) {
    case 'Lead':
      return (
        snapshot.object === 'Lead' &&
        (meaning.status === undefined || sameValue(meaning.status, snapshot.Status)) &&
        (meaning.isConverted === undefined || meaning.isConverted === snapshot.IsConverted) &&
        reasonMatches(meaning.reasons, snapshot.Feedback_Reason__c)
      );
    case 'Opportunity':
      return (
        snapshot.object === 'Opportunity' &&
        meaning.state === opportunityState(snapshot) &&
        reasonMatches(meaning.reasons, snapshot.Loss_Reason__c)
      );
    default:
      return assertNever(meaning);
  }
}

function salesforceSpecificity(meaning: SalesforceStageMeaning): number {
  switch (meaning.object) {
    case 'Lead':
      return (meaning.status === undefined ? 0 : 1) + (meaning.isConverted === undefined ? 0 : 1) + (meaning.reasons === undefined ? 0 : 1);
    case 'Opportunity':
      return 1 + (meaning.reasons === undefined ? 0 : 1);
    default:
      return assertNever(meaning);
  }
}

interface RowMatch {
  readonly row: StageRow;
  readonly index: number;
}

/** The most specific matching row; on a tie the earlier row wins. */
function bestRow(rows: readonly StageRow[], accepts: (row: StageRow) => boolean, specificity: (row: StageRow) => number): RowMatch | null {
  let best: RowMatch | null = null;
  let bestScore = -1;
  for (const [index, row] of rows.entries()) {
    if (!accepts(row)) continue;
    const score = specificity(row);
    if (score > bestScore) {
      best = { row, index };
      bestScore = score;
    }
  }
  return best;
}

function syncsToSalesforce(direction: SyncDirection): boolean {
  return direction === 'hubspot_to_salesforce' || direction === 'both';
}

function syncsToHubSpot(direction: SyncDirection): boolean {
  return direction === 'salesforce_to_hubspot' || direction === 'both';
}

/** The shared stage a HubSpot contact is at by the dictionary (any direction), or null. */
export function findStageForHubSpot(dictionary: StageDictionary, contact: HubSpotContactSnapshot): SharedStage | null {
  const match = bestRow(
    dictionary.rows,
    (row) => hasHubSpotMeaning(row.hubspot) && hubspotMeaningMatches(row.hubspot, contact),
    (row) => (row.hubspot === null ? 0 : hubspotSpecificity(row.hubspot)),
  );
  return match?.row.stage ?? null;
}

/** The shared stage a Salesforce record is at by the dictionary (any direction), or null. */
export function findStageForSalesforce(dictionary: StageDictionary, snapshot: SalesforceSnapshot): SharedStage | null {
  return matchSalesforceRow(dictionary.rows, snapshot)?.row.stage ?? null;
}

function matchSalesforceRow(
  rows: readonly StageRow[],
  snapshot: SalesforceSnapshot,
  eligible: (row: StageRow) => boolean = () => true,
): RowMatch | null {
  return bestRow(
    rows,
    (row) => eligible(row) && row.salesforce !== null && salesforceMeaningMatches(row.salesforce, snapshot),
    (row) => (row.salesforce === null ? 0 : salesforceSpecificity(row.salesforce)),
  );
}

function describeContact(contact: HubSpotContactSnapshot): string {
  const parts = HUBSPOT_MEANING_KEYS.flatMap((key) => {
    const value = presentOrNull(contact[key]);
    return value === null ? [] : [`${key}="${value}"`];
  });
  return parts.length === 0 ? 'a contact with no lifecyclestage' : parts.join(' + ');
}

function describeSnapshot(snapshot: SalesforceSnapshot): string {
  switch (snapshot.object) {
    case 'Lead': {
      const reason = presentOrNull(snapshot.Feedback_Reason__c);
      return `Lead Status "${snapshot.Status}"${snapshot.IsConverted ? ' (converted)' : ''}${reason === null ? '' : ` with reason "${reason}"`}`;
    }
    case 'Opportunity':
      return `Opportunity "${snapshot.StageName}" (${opportunityState(snapshot)})`;
    default:
      return assertNever(snapshot);
  }
}

function ruleName(match: RowMatch): string {
  return `rule rows[${match.index}] (${match.row.stage})`;
}

// ---------------------------------------------------------------------------------------------
// HubSpot → Salesforce

/** What the app knows about the contact's Salesforce records. */
export interface RecordLink {
  readonly leadId?: string | null | undefined;
  readonly contactId?: string | null | undefined;
  /** The linked Lead's current Status, needed before moving an existing Lead. */
  readonly leadStatus?: string | null | undefined;
  /** The linked Lead's current `Feedback_Reason__c` (tells a recycled Lead from a rejected one). */
  readonly leadFeedbackReason?: string | null | undefined;
}

/** What to do in Salesforce after a HubSpot change. */
export type SalesforceDecision =
  | { readonly action: 'none'; readonly reason: string }
  | {
      readonly action: 'upsert_lead';
      readonly stage: SharedStage;
      readonly status: string;
      /** Null: create the Lead (upsert by `HubSpot_Contact_Id__c`). */
      readonly leadId: string | null;
      /** True when this is the handoff: the SLA clock starts. */
      readonly handoff: boolean;
      readonly reason: string;
    };

/** Decides the Salesforce write for a HubSpot contact's lifecycle, by the dictionary's rows. */
export function decideHubSpotToSalesforce(
  dictionary: StageDictionary,
  contact: HubSpotContactSnapshot,
  link: RecordLink,
): SalesforceDecision {
  const match = bestRow(
    dictionary.rows,
    (row) => syncsToSalesforce(row.direction) && hasHubSpotMeaning(row.hubspot) && hubspotMeaningMatches(row.hubspot, contact),
    (row) => (row.hubspot === null ? 0 : hubspotSpecificity(row.hubspot)),
  );
  if (match === null) {
    return { action: 'none', reason: `no hubspot_to_salesforce rule matches ${describeContact(contact)}` };
  }
  const { row } = match;
  const target = row.salesforce;
  if (target?.object !== 'Lead' || target.status === undefined) {
    return { action: 'none', reason: `${ruleName(match)} has no Salesforce Lead Status to write` };
  }
  const handoff = row.stage === dictionary.handoffStage;
  const what = handoff ? `handoff (${row.stage})` : `stage ${row.stage}`;

  const contactId = presentOrNull(link.contactId);
  if (contactId !== null) {
    return {
      action: 'none',
      reason: `${ruleName(match)}: the Lead is already converted (Contact ${contactId}); Salesforce owns the stage now`,
    };
  }
  const leadId = presentOrNull(link.leadId);
  if (leadId === null) {
    return {
      action: 'upsert_lead',
      stage: row.stage,
      status: target.status,
      leadId: null,
      handoff,
      reason: `${ruleName(match)}: ${what} creates the Lead with Status "${target.status}"`,
    };
  }
  const currentStatus = presentOrNull(link.leadStatus);
  if (currentStatus === null) {
    return {
      action: 'none',
      reason: `refused: Lead ${leadId} exists but its current Status is unknown; read it before moving it`,
    };
  }
  if (sameValue(currentStatus, target.status)) {
    return { action: 'none', reason: `${ruleName(match)}: Lead ${leadId} already has Status "${currentStatus}"` };
  }
  const currentStage = findStageForSalesforce(dictionary, {
    object: 'Lead',
    Status: currentStatus,
    IsConverted: false,
    Feedback_Reason__c: link.leadFeedbackReason,
  });
  if (currentStage === null) {
    return {
      action: 'none',
      reason: `refused: Lead ${leadId} has Status "${currentStatus}", which no stage in the dictionary names`,
    };
  }
  if (!isForwardMove(dictionary, currentStage, row.stage)) {
    return {
      action: 'none',
      reason: `refused: backward move from ${currentStage} (Lead Status "${currentStatus}") to ${row.stage}`,
    };
  }
  return {
    action: 'upsert_lead',
    stage: row.stage,
    status: target.status,
    leadId,
    handoff,
    reason: `${ruleName(match)}: ${what} moves Lead ${leadId} from ${currentStage} to Status "${target.status}"`,
  };
}

// ---------------------------------------------------------------------------------------------
// Salesforce → HubSpot

/** HubSpot contact properties to write, in one request. */
export type HubSpotPropertyMap = Readonly<Record<string, string>>;

/** What to do in HubSpot after a Salesforce change. */
export type HubSpotDecision =
  | { readonly action: 'none'; readonly stage: SharedStage | null; readonly reason: string }
  | {
      readonly action: 'update';
      readonly stage: SharedStage;
      /** True for a backward move: steps[0] clears lifecyclestage, steps[1] sets the new value. */
      readonly clearFirst: boolean;
      /** Separate requests, in order (HubSpot batches do not guarantee order within one call). */
      readonly steps: readonly HubSpotPropertyMap[];
      readonly reason: string;
    };

/** Decides the HubSpot write for a Salesforce Lead/Opportunity, refusing backward moves without a rule. */
export function decideSalesforceToHubSpot(
  dictionary: StageDictionary,
  current: HubSpotContactSnapshot,
  snapshot: SalesforceSnapshot,
): HubSpotDecision {
  const match = matchSalesforceRow(dictionary.rows, snapshot, (row) => syncsToHubSpot(row.direction));
  if (match === null) {
    return { action: 'none', stage: null, reason: `no salesforce_to_hubspot rule matches ${describeSnapshot(snapshot)}` };
  }
  const { row } = match;
  const rule = ruleName(match);
  const target = row.hubspot;
  if (!hasHubSpotMeaning(target)) {
    return { action: 'none', stage: row.stage, reason: `${rule} has no HubSpot meaning to write` };
  }

  const changes: Record<string, string> = {};
  let clearFirst = false;
  let movement = '';
  if (target.lifecyclestage !== undefined) {
    const wanted = target.lifecyclestage;
    const have = presentOrNull(current.lifecyclestage);
    if (have === null) {
      changes['lifecyclestage'] = wanted;
      movement = `sets lifecyclestage "${wanted}"`;
    } else if (!sameValue(have, wanted)) {
      const haveRank = lifecycleRank(dictionary.hubspotLifecycleOrder, have);
      const wantedRank = lifecycleRank(dictionary.hubspotLifecycleOrder, wanted);
      if (haveRank === null || wantedRank === null) {
        return {
          action: 'none',
          stage: row.stage,
          reason: `refused: lifecyclestage "${have}" → "${wanted}" cannot be ranked (not in hubspotLifecycleOrder)`,
        };
      }
      if (wantedRank > haveRank) {
        changes['lifecyclestage'] = wanted;
        movement = `moves lifecyclestage forward from "${have}" to "${wanted}"`;
      } else if (BACKWARD_RULE_STAGES.includes(row.stage)) {
        changes['lifecyclestage'] = wanted;
        clearFirst = true;
        movement = `moves lifecyclestage back from "${have}" to "${wanted}" by the explicit ${row.stage} rule (cleared first)`;
      } else {
        return {
          action: 'none',
          stage: row.stage,
          reason: `refused: backward move from lifecyclestage "${have}" to "${wanted}" (${row.stage} is not a rejected/recycled rule)`,
        };
      }
    }
  }
  for (const key of ['hs_lead_status', 'sales_feedback_status'] as const) {
    const wanted = target[key];
    if (wanted === undefined) continue;
    const have = presentOrNull(current[key]);
    if (clearFirst || have === null || !sameValue(have, wanted)) changes[key] = wanted;
  }

  const changed = Object.keys(changes);
  if (changed.length === 0) {
    return { action: 'none', stage: row.stage, reason: `${rule}: HubSpot already shows ${describeHubSpotValues(target)}` };
  }
  const summary = movement === '' ? `sets ${changed.map((key) => `${key}="${changes[key] ?? ''}"`).join(', ')}` : movement;
  return {
    action: 'update',
    stage: row.stage,
    clearFirst,
    steps: clearFirst ? [{ lifecyclestage: '' }, changes] : [changes],
    reason: `${rule}: ${describeSnapshot(snapshot)} ${summary}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Field sync rules (the HubSpot connector's vocabulary)

/** How one mapped field syncs, in the words of HubSpot's Salesforce connector. */
export const FIELD_SYNC_RULES = ['prefer_salesforce_unless_blank', 'always_salesforce', 'two_way', 'dont_sync'] as const;
/** A field sync rule. */
export type FieldSyncRule = (typeof FIELD_SYNC_RULES)[number];

/**
 * The standard Lead fields Salesforce's lead conversion copies into a Contact field, and that field
 * ("The system automatically maps standard lead fields to standard account, contact, and
 * opportunity fields": convertLead(), SOAP API Developer Guide; the Contact side of Setup → Lead
 * Settings → Map Lead Fields). Company goes to the Account's Name, not the Contact. Custom Lead
 * fields go where the org's LeadConvertSettings map them, which a mapping names itself.
 */
export const CONVERTED_CONTACT_FIELDS: Readonly<Record<string, string>> = {
  FirstName: 'FirstName',
  LastName: 'LastName',
  Salutation: 'Salutation',
  Title: 'Title',
  Email: 'Email',
  Phone: 'Phone',
  MobilePhone: 'MobilePhone',
  Fax: 'Fax',
  Street: 'MailingStreet',
  City: 'MailingCity',
  State: 'MailingState',
  PostalCode: 'MailingPostalCode',
  Country: 'MailingCountry',
  LeadSource: 'LeadSource',
  Description: 'Description',
  DoNotCall: 'DoNotCall',
  HasOptedOutOfFax: 'HasOptedOutOfFax',
};

/** The Contact field a mapping follows after conversion (see `salesforceContactField`), or null for the Lead only. */
export function contactFieldOf(mapping: Pick<FieldMapping, 'salesforceField' | 'salesforceContactField'>): string | null {
  if (mapping.salesforceContactField !== undefined) return mapping.salesforceContactField;
  return Object.hasOwn(CONVERTED_CONTACT_FIELDS, mapping.salesforceField)
    ? (CONVERTED_CONTACT_FIELDS[mapping.salesforceField] ?? null)
    : null;
}

/** One HubSpot property ↔ Salesforce field mapping. */
export const FieldMappingSchema = z
  .object({
    hubspotProperty: nonBlankText,
    salesforceField: nonBlankText,
    rule: z.enum(FIELD_SYNC_RULES),
    /**
     * Picklist values that are spelled differently on the two sides (HubSpot option value ↔
     * Salesforce picklist value). A value the map does not name crosses as it is.
     */
    valueMap: z.array(z.object({ hubspot: nonBlankText, salesforce: nonBlankText }).strict()).optional(),
    /**
     * The Contact field the mapping follows once the Lead is converted: the field the org's lead
     * conversion copies the Lead field into. Absent: the standard field's Contact counterpart
     * (`contactFieldOf`), none for a custom field; null: the Lead only.
     */
    salesforceContactField: nonBlankText.nullable().optional(),
  })
  .strict()
  .superRefine((mapping, context) => {
    // One value on each side maps to one on the other, so a value that goes and comes back is itself.
    for (const side of ['hubspot', 'salesforce'] as const) {
      mapping.valueMap?.forEach((entry, index) => {
        const first = mapping.valueMap?.findIndex((other) => other[side] === entry[side]) ?? index;
        if (first !== index)
          context.addIssue({
            code: 'custom',
            path: ['valueMap', index, side],
            message: `"${entry[side]}" is already mapped by valueMap[${first}]`,
          });
      });
    }
  });
/** A field mapping. */
export type FieldMapping = z.output<typeof FieldMappingSchema>;

/** The admin-editable field mapping list; each property and each field appears once. */
export const FieldMappingListSchema = z.array(FieldMappingSchema).superRefine((mappings, context) => {
  mappings.forEach((mapping, index) => {
    const earlier = mappings.slice(0, index);
    const sameProperty = earlier.findIndex((other) => sameValue(other.hubspotProperty, mapping.hubspotProperty));
    if (sameProperty !== -1) {
      context.addIssue({
        code: 'custom',
        path: [index, 'hubspotProperty'],
        message: `HubSpot property "${mapping.hubspotProperty}" is already mapped by [${sameProperty}]`,
      });
    }
    const sameField = earlier.findIndex((other) => sameValue(other.salesforceField, mapping.salesforceField));
    if (sameField !== -1) {
      context.addIssue({
        code: 'custom',
        path: [index, 'salesforceField'],
        message: `Salesforce field "${mapping.salesforceField}" is already mapped by [${sameField}]`,
      });
    }
    const contactField = contactFieldOf(mapping);
    const sameContactField =
      contactField === null ? -1 : earlier.findIndex((other) => sameValue(contactFieldOf(other) ?? '', contactField));
    if (sameContactField !== -1) {
      context.addIssue({
        code: 'custom',
        path: [index, 'salesforceContactField'],
        message: `Contact field "${contactField}" is already followed by [${sameContactField}]`,
      });
    }
  });
});

/** The default contact ↔ Lead mappings. */
export const DEFAULT_FIELD_MAPPINGS: readonly FieldMapping[] = [
  { hubspotProperty: 'email', salesforceField: 'Email', rule: 'prefer_salesforce_unless_blank' },
  { hubspotProperty: 'firstname', salesforceField: 'FirstName', rule: 'prefer_salesforce_unless_blank' },
  { hubspotProperty: 'lastname', salesforceField: 'LastName', rule: 'prefer_salesforce_unless_blank' },
  { hubspotProperty: 'company', salesforceField: 'Company', rule: 'prefer_salesforce_unless_blank' },
  { hubspotProperty: 'phone', salesforceField: 'Phone', rule: 'prefer_salesforce_unless_blank' },
  { hubspotProperty: 'jobtitle', salesforceField: 'Title', rule: 'prefer_salesforce_unless_blank' },
];

/** Validates an admin-supplied field mapping list, listing every problem. */
export function validateFieldMappings(input: unknown): Result<FieldMapping[], string[]> {
  const parsed = FieldMappingListSchema.safeParse(input);
  return parsed.success ? ok(parsed.data) : err(zodIssueMessages(parsed.error));
}

/** One side's value of a mapped field and when it last changed (epoch ms). */
export interface FieldSide {
  readonly value: string | null | undefined;
  readonly at: number | null | undefined;
}

/** The value to write to the target side (null clears it), or nothing to write. */
export type FieldResolution =
  { readonly write: true; readonly value: string | null; readonly reason: string } | { readonly write: false; readonly reason: string };

/** Decides what one mapped field writes in the given direction under its sync rule. */
export function resolveFieldValue(
  rule: FieldSyncRule,
  hubspot: FieldSide,
  salesforce: FieldSide,
  direction: OneWayDirection,
): FieldResolution {
  const hubspotValue = isBlank(hubspot.value) ? null : (hubspot.value ?? null);
  const salesforceValue = isBlank(salesforce.value) ? null : (salesforce.value ?? null);
  const toSalesforce = direction === 'hubspot_to_salesforce';
  const targetValue = toSalesforce ? salesforceValue : hubspotValue;
  const writeIfDifferent = (value: string | null, why: string): FieldResolution =>
    value === targetValue ? { write: false, reason: `${rule}: values already equal` } : { write: true, value, reason: `${rule}: ${why}` };

  switch (rule) {
    case 'dont_sync':
      return { write: false, reason: 'dont_sync: no data passes either way' };
    case 'always_salesforce':
      if (toSalesforce) return { write: false, reason: 'always_salesforce: HubSpot never writes to Salesforce' };
      return writeIfDifferent(
        salesforceValue,
        salesforceValue === null ? 'the Salesforce deletion clears HubSpot' : 'Salesforce overwrites HubSpot',
      );
    case 'prefer_salesforce_unless_blank': {
      const salesforceClearedLater = isNewer(salesforce.at, hubspot.at);
      if (toSalesforce) {
        if (salesforceValue !== null) return { write: false, reason: `${rule}: Salesforce already has a value` };
        if (hubspotValue === null) return { write: false, reason: `${rule}: HubSpot has no value to fill in` };
        if (salesforceClearedLater) return { write: false, reason: `${rule}: Salesforce cleared the value after HubSpot set it` };
        return { write: true, value: hubspotValue, reason: `${rule}: Salesforce is blank, HubSpot fills it` };
      }
      if (salesforceValue !== null) return writeIfDifferent(salesforceValue, 'Salesforce has a value and overwrites HubSpot');
      if (hubspotValue !== null && salesforceClearedLater) {
        return { write: true, value: null, reason: `${rule}: the Salesforce deletion clears HubSpot` };
      }
      return { write: false, reason: `${rule}: Salesforce is blank, HubSpot keeps its value` };
    }
    case 'two_way': {
      // Newest wins; on an exact tie Salesforce wins, so the two sides always converge.
      const sourceWins = toSalesforce ? isNewer(hubspot.at, salesforce.at) : !isNewer(hubspot.at, salesforce.at);
      if (!sourceWins) {
        return { write: false, reason: `${rule}: the ${toSalesforce ? 'Salesforce' : 'HubSpot'} value is newer` };
      }
      const sourceValue = toSalesforce ? hubspotValue : salesforceValue;
      return writeIfDifferent(
        sourceValue,
        `the ${toSalesforce ? 'HubSpot' : 'Salesforce'} value is newer${sourceValue === null ? ' (a deletion)' : ''}`,
      );
    }
    default:
      return assertNever(rule);
  }
}

function isNewer(a: number | null | undefined, b: number | null | undefined): boolean {
  return (a ?? Number.NEGATIVE_INFINITY) > (b ?? Number.NEGATIVE_INFINITY);
}
