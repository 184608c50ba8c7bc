/**
 * The settings as HTML forms: each setting becomes flat form fields (one input per cell, the same
 * name repeated once per table row, lists comma-separated, channel conditions and value map entries
 * one per line) and back. The page renders from the fields, so a refused form comes back exactly as typed; the value
 * read back goes through the same checks as the JSON API.
 */
import type { PrivacyPolicy } from '../../domain/consent.ts';
import type { MarketingCommitments } from '../../domain/commitments.ts';
import type { SharedGoals } from '../../domain/goals.ts';
import type { ReviewDigest } from '../../domain/digest.ts';
import type { OwnerMatching } from '../../domain/owners.ts';
import type { DeletionPolicy } from '../../domain/record-identity.ts';
import { type ChangeFeedSetting } from '../../domain/change-feed.ts';
import type { ChannelCondition, ChannelRules } from '../../domain/channels.ts';
import type { FeedbackTaxonomy } from '../../domain/feedback.ts';
import type { RevenuePolicy } from '../../domain/revenue.ts';
import type { BusinessHours, SlaPolicy } from '../../domain/sla.ts';
import { SIDE_STAGES, type FieldMapping, type StageDictionary } from '../../domain/stages.ts';
import { MappingPairSchema, type MappingPair } from '../../domain/field-values.ts';
import type { SettingKey } from './settings.ts';

/** A form body as express.urlencoded (non-extended) gives it: a repeated name is an array. */
export type FormFields = Record<string, string | string[] | undefined>;

/** Every value of a repeated field, in order. */
export function fieldList(fields: FormFields, name: string): string[] {
  const value = fields[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** One value of a field ('' when absent). */
export function field(fields: FormFields, name: string): string {
  return fieldList(fields, name)[0] ?? '';
}

export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function optional(text: string | undefined): string | undefined {
  const trimmed = (text ?? '').trim();
  return trimmed === '' ? undefined : trimmed;
}

function numberOf(text: string): number | string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const parsed = Number(trimmed);
  // A value that is not a number goes on as typed: the validator names it.
  return Number.isFinite(parsed) ? parsed : trimmed;
}

/** The rows of a table: the repeated fields zipped by position, rows left blank dropped. */
function rowsOf(
  fields: FormFields,
  prefix: string,
  columns: readonly string[],
  textColumns: readonly string[] = columns,
): Record<string, string>[] {
  const lists = Object.fromEntries(columns.map((column) => [column, fieldList(fields, `${prefix}.${column}`)]));
  const count = Math.max(0, ...Object.values(lists).map((list) => list.length));
  const rows: Record<string, string>[] = [];
  for (let index = 0; index < count; index += 1) {
    const row = Object.fromEntries(columns.map((column) => [column, lists[column]?.[index] ?? '']));
    if (textColumns.every((column) => (row[column] ?? '').trim() === '')) continue;
    rows.push(row);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Channel conditions: one per line, `or` between groups.

const NEGATED: Readonly<Record<ChannelCondition['operator'], string>> = {
  equals: '!=',
  in: 'not in',
  regex: '!~',
  exists: 'is not set',
  in_site_list: 'not in site list',
};
const PLAIN: Readonly<Record<ChannelCondition['operator'], string>> = {
  equals: '=',
  in: 'in',
  regex: '~',
  exists: 'is set',
  in_site_list: 'in site list',
};

/** A channel condition as one line: `medium = "cpc"`, `source in ["a", "b"]`, `referrer ~ /re/`, `medium is set`, `source in site list social`. */
export function conditionText(condition: ChannelCondition): string {
  const operator = (condition.negate ? NEGATED : PLAIN)[condition.operator];
  switch (condition.operator) {
    case 'equals':
      return `${condition.field} ${operator} ${JSON.stringify(condition.value)}`;
    case 'in':
      return `${condition.field} ${operator} ${JSON.stringify(condition.values).replaceAll('","', '", "')}`;
    case 'regex':
      return `${condition.field} ${operator} /${condition.pattern}/`;
    case 'exists':
      return `${condition.field} ${operator}`;
    case 'in_site_list':
      return `${condition.field} ${operator} ${condition.list}`;
    default: {
      const unreachable: never = condition;
      return String(unreachable);
    }
  }
}

const CONDITION_LINE = /^(\w+)\s+(is not set|is set|not in site list|in site list|not in|in|!=|=|!~|~)\s*(.*)$/;

/** Reads one condition line; an unreadable line comes back as a message. */
function parseCondition(line: string): Record<string, unknown> | string {
  const match = CONDITION_LINE.exec(line);
  if (!match)
    return `"${line}" is not a condition: write field = "value", field in ["a", "b"], field ~ /pattern/, field is set, or field in site list name`;
  const [, fieldName, operator = '', rest = ''] = match;
  const negate = operator.startsWith('!') || operator.startsWith('not') || operator === 'is not set';
  const base = { field: fieldName, ...(negate ? { negate: true } : {}) };
  const json = (text: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  };
  switch (operator) {
    case '=':
    case '!=': {
      const value = json(rest);
      return typeof value === 'string' ? { ...base, operator: 'equals', value } : `"${line}": put the value in double quotes`;
    }
    case 'in':
    case 'not in': {
      const values = json(rest);
      return Array.isArray(values) ? { ...base, operator: 'in', values } : `"${line}": list the values as ["a", "b"]`;
    }
    case '~':
    case '!~':
      return rest.length >= 2 && rest.startsWith('/') && rest.endsWith('/')
        ? { ...base, operator: 'regex', pattern: rest.slice(1, -1) }
        : `"${line}": write the pattern between slashes, /like this/`;
    case 'is set':
    case 'is not set':
      return rest === '' ? { ...base, operator: 'exists' } : `"${line}": nothing may follow "${operator}"`;
    default:
      return rest === '' ? `"${line}": name the site list` : { ...base, operator: 'in_site_list', list: rest };
  }
}

/** The groups of a rule's conditions text, or the lines that could not be read. */
function parseConditions(text: string): { anyOf: Record<string, unknown>[][]; problems: string[] } {
  const groups: Record<string, unknown>[][] = [[]];
  const problems: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.toLowerCase() === 'or') {
      groups.push([]);
      continue;
    }
    const condition = parseCondition(line);
    if (typeof condition === 'string') problems.push(condition);
    else groups[groups.length - 1]?.push(condition);
  }
  return { anyOf: groups.filter((group) => group.length > 0), problems };
}

// ---------------------------------------------------------------------------------------------
// Each setting ⇄ its fields

const yesNo = (value: boolean | undefined): string => (value === undefined ? '' : value ? 'yes' : 'no');

function dictionaryFields(dictionary: StageDictionary): FormFields {
  const rows = dictionary.rows;
  return {
    handoffStage: dictionary.handoffStage,
    funnel: dictionary.funnel.join(', '),
    ...Object.fromEntries(SIDE_STAGES.map((side) => [`rank.${side}`, dictionary.sideStageRanks[side]])),
    lifecycleOrder: dictionary.hubspotLifecycleOrder.join(', '),
    'row.stage': rows.map((row) => row.stage),
    'row.direction': rows.map((row) => row.direction),
    'row.lifecyclestage': rows.map((row) => row.hubspot?.lifecyclestage ?? ''),
    'row.hs_lead_status': rows.map((row) => row.hubspot?.hs_lead_status ?? ''),
    'row.sales_feedback_status': rows.map((row) => row.hubspot?.sales_feedback_status ?? ''),
    'row.object': rows.map((row) => row.salesforce?.object ?? ''),
    'row.status': rows.map((row) => (row.salesforce?.object === 'Lead' ? (row.salesforce.status ?? '') : '')),
    'row.converted': rows.map((row) => (row.salesforce?.object === 'Lead' ? yesNo(row.salesforce.isConverted) : '')),
    'row.state': rows.map((row) => (row.salesforce?.object === 'Opportunity' ? row.salesforce.state : '')),
    'row.reasons': rows.map((row) => (row.salesforce?.reasons ?? []).join(', ')),
  };
}

const DICTIONARY_COLUMNS = [
  'stage',
  'direction',
  'lifecyclestage',
  'hs_lead_status',
  'sales_feedback_status',
  'object',
  'status',
  'converted',
  'state',
  'reasons',
] as const;

function dictionaryValue(fields: FormFields): unknown {
  const rows = rowsOf(fields, 'row', DICTIONARY_COLUMNS, [
    'lifecyclestage',
    'hs_lead_status',
    'sales_feedback_status',
    'object',
    'status',
    'reasons',
  ]).map((row) => {
    const hubspot = Object.fromEntries(
      (['lifecyclestage', 'hs_lead_status', 'sales_feedback_status'] as const).flatMap((property) => {
        const value = optional(row[property]);
        return value === undefined ? [] : [[property, value]];
      }),
    );
    const reasons = splitList(row.reasons ?? '');
    const reasonsPart = reasons.length > 0 ? { reasons } : {};
    let salesforce: Record<string, unknown> | null = null;
    if (row.object === 'Lead') {
      const status = optional(row.status);
      salesforce = {
        object: 'Lead',
        ...(status === undefined ? {} : { status }),
        ...(row.converted === '' || row.converted === undefined ? {} : { isConverted: row.converted === 'yes' }),
        ...reasonsPart,
      };
    } else if (row.object === 'Opportunity') {
      salesforce = { object: 'Opportunity', ...(optional(row.state) === undefined ? {} : { state: row.state }), ...reasonsPart };
    }
    return { stage: row.stage, direction: row.direction, hubspot: Object.keys(hubspot).length > 0 ? hubspot : null, salesforce };
  });
  return {
    handoffStage: field(fields, 'handoffStage'),
    funnel: splitList(field(fields, 'funnel')),
    sideStageRanks: Object.fromEntries(SIDE_STAGES.map((side) => [side, field(fields, `rank.${side}`)])),
    hubspotLifecycleOrder: splitList(field(fields, 'lifecycleOrder')),
    rows,
  };
}

// ---------------------------------------------------------------------------------------------
// Value maps: one entry per line, `hubspot value = Salesforce value`.

/** A mapping's value map as lines, one `hubspot value = Salesforce value` each. */
export function valueMapText(valueMap: FieldMapping['valueMap']): string {
  return (valueMap ?? []).map((entry) => `${entry.hubspot} = ${entry.salesforce}`).join('\n');
}

/** The entries of a value map's text, or the lines that could not be read. */
function parseValueMap(text: string): { entries: { hubspot: string; salesforce: string }[]; problems: string[] } {
  const entries: { hubspot: string; salesforce: string }[] = [];
  const problems: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const at = line.indexOf('=');
    const hubspot = at < 0 ? '' : line.slice(0, at).trim();
    const salesforce = at < 0 ? '' : line.slice(at + 1).trim();
    if (hubspot === '' || salesforce === '') problems.push(`"${line}" is not a value pair: write hubspot value = Salesforce value`);
    else entries.push({ hubspot, salesforce });
  }
  return { entries, problems };
}

/** Mapping pairs in one form field or query value: `property:Field`, comma-separated (names hold neither). */
export function pairsText(pairs: readonly MappingPair[]): string {
  return pairs.map((p) => `${p.hubspotProperty}:${p.salesforceField}`).join(',');
}

/** The pairs of a `pairsText` value; undefined when it names none (every syncing mapping). */
export function pairsFrom(text: string): MappingPair[] | undefined {
  const pairs = splitList(text).flatMap((part) => {
    const [hubspotProperty = '', salesforceField = ''] = part.split(':').map((side) => side.trim());
    const parsed = MappingPairSchema.safeParse({ hubspotProperty, salesforceField });
    return parsed.success ? [parsed.data] : [];
  });
  return pairs.length > 0 ? pairs : undefined;
}

/** What the form's Contact field column says for "the Lead only" (a null `salesforceContactField`); blank is the conversion's own field. */
export const LEAD_ONLY_WORD = 'none';

function mappingsFields(mappings: readonly FieldMapping[]): FormFields {
  return {
    'map.hubspotProperty': mappings.map((m) => m.hubspotProperty),
    'map.salesforceField': mappings.map((m) => m.salesforceField),
    'map.salesforceContactField': mappings.map((m) =>
      m.salesforceContactField === undefined ? '' : (m.salesforceContactField ?? LEAD_ONLY_WORD),
    ),
    'map.rule': mappings.map((m) => m.rule),
    'map.valueMap': mappings.map((m) => valueMapText(m.valueMap)),
  };
}

function mappingsValue(fields: FormFields): { value: unknown; problems: string[] } {
  const problems: string[] = [];
  const value = rowsOf(
    fields,
    'map',
    ['hubspotProperty', 'salesforceField', 'salesforceContactField', 'rule', 'valueMap'],
    ['hubspotProperty', 'salesforceField', 'valueMap'],
  ).map((row, index) => {
    const parsed = parseValueMap(row.valueMap ?? '');
    problems.push(...parsed.problems.map((problem) => `[${index}].valueMap: ${problem}`));
    const contactField = (row.salesforceContactField ?? '').trim();
    return {
      hubspotProperty: (row.hubspotProperty ?? '').trim(),
      salesforceField: (row.salesforceField ?? '').trim(),
      // Blank: the field lead conversion fills (nothing saved, so an unchanged form saves an unchanged setting).
      ...(contactField === '' ? {} : { salesforceContactField: contactField.toLowerCase() === LEAD_ONLY_WORD ? null : contactField }),
      rule: row.rule,
      // A mapping without entries has no value map at all, so an unchanged form saves an unchanged setting.
      ...(parsed.entries.length > 0 ? { valueMap: parsed.entries } : {}),
    };
  });
  return { value, problems };
}

function channelFields(rules: ChannelRules): FormFields {
  const lists = Object.entries(rules.siteLists);
  return {
    fallbackChannel: rules.fallbackChannel,
    'list.name': lists.map(([name]) => name),
    'list.entries': lists.map(([, entries]) => entries.join(', ')),
    'rule.channel': rules.rules.map((rule) => rule.channel),
    'rule.conditions': rules.rules.map((rule) => rule.anyOf.map((group) => group.map(conditionText).join('\n')).join('\nor\n')),
  };
}

function channelValue(fields: FormFields): { value: unknown; problems: string[] } {
  const problems: string[] = [];
  const rules = rowsOf(fields, 'rule', ['channel', 'conditions']).map((row, index) => {
    const parsed = parseConditions(row.conditions ?? '');
    problems.push(...parsed.problems.map((problem) => `rules[${index}].anyOf: ${problem}`));
    return { channel: (row.channel ?? '').trim(), anyOf: parsed.anyOf };
  });
  const siteLists = Object.fromEntries(
    rowsOf(fields, 'list', ['name', 'entries']).map((row) => [(row.name ?? '').trim(), splitList(row.entries ?? '')]),
  );
  return { value: { siteLists, rules, fallbackChannel: field(fields, 'fallbackChannel').trim() }, problems };
}

function taxonomyFields(taxonomy: FeedbackTaxonomy): FormFields {
  return {
    'reason.label': taxonomy.reasons.map((r) => r.label),
    'reason.code': taxonomy.reasons.map((r) => r.code),
    fallbackCode: taxonomy.fallbackCode,
  };
}

function taxonomyValue(fields: FormFields): unknown {
  const reasons = rowsOf(fields, 'reason', ['label', 'code'], ['label', 'code']);
  return {
    reasons: reasons.map((row) => ({ label: (row.label ?? '').trim(), code: (row.code ?? '').trim() })),
    fallbackCode: field(fields, 'fallbackCode').trim(),
  };
}

function slaFields(policy: SlaPolicy): FormFields {
  const hours = policy.businessHours;
  return {
    hours: String(policy.hours),
    clock: hours === null ? 'calendar' : 'business',
    timeZone: hours?.timeZone ?? '',
    start: hours?.start ?? '09:00',
    end: hours?.end ?? '17:00',
    weekdays: (hours?.weekdays ?? [1, 2, 3, 4, 5]).join(', '),
    holidays: (hours?.holidays ?? []).join(', '),
    // Follow-up rules: blank turns a rule off.
    cadenceTouches: policy.cadence === null ? '' : String(policy.cadence.touches),
    cadenceDays: policy.cadence === null ? '' : String(policy.cadence.days),
    dispositionDays: policy.disposition === null ? '' : String(policy.disposition.days),
    'override.team': policy.overrides.map((o) => o.team ?? ''),
    'override.leadSource': policy.overrides.map((o) => o.leadSource ?? ''),
    'override.hours': policy.overrides.map((o) => String(o.hours)),
    'override.clock': policy.overrides.map((o) =>
      o.businessHours === undefined ? 'inherit' : o.businessHours === null ? 'calendar' : 'own',
    ),
    // An override's own business hours are not edited in the table; they travel with the row.
    'override.ownHours': policy.overrides.map((o) => (o.businessHours ? JSON.stringify(o.businessHours) : '')),
  };
}

function slaValue(fields: FormFields): unknown {
  const businessHours = {
    timeZone: field(fields, 'timeZone').trim(),
    weekdays: splitList(field(fields, 'weekdays')).map((day) => numberOf(day)),
    start: field(fields, 'start').trim(),
    end: field(fields, 'end').trim(),
    holidays: splitList(field(fields, 'holidays')),
  };
  const overrides = rowsOf(fields, 'override', ['team', 'leadSource', 'hours', 'clock', 'ownHours'], ['team', 'leadSource', 'hours']).map(
    (row) => {
      let own: BusinessHours | null = null;
      try {
        own = row.ownHours ? (JSON.parse(row.ownHours) as BusinessHours) : null;
      } catch {
        own = null;
      }
      const clock = row.clock === 'calendar' ? { businessHours: null } : row.clock === 'own' && own ? { businessHours: own } : {};
      const team = optional(row.team);
      const leadSource = optional(row.leadSource);
      return {
        ...(team === undefined ? {} : { team }),
        ...(leadSource === undefined ? {} : { leadSource }),
        hours: numberOf(row.hours ?? ''),
        ...clock,
      };
    },
  );
  return {
    hours: numberOf(field(fields, 'hours')),
    businessHours: field(fields, 'clock') === 'business' ? businessHours : null,
    overrides,
    ...followUpValue(fields),
  };
}

/** The cadence (touches, days) and disposition (days) inputs: all blank turns a rule off; half filled is named by the validator. */
function followUpValue(fields: FormFields): { cadence: unknown; disposition: unknown } {
  const touches = numberOf(field(fields, 'cadenceTouches'));
  const days = numberOf(field(fields, 'cadenceDays'));
  const dispositionDays = numberOf(field(fields, 'dispositionDays'));
  return {
    cadence: touches === undefined && days === undefined ? null : { touches, days },
    disposition: dispositionDays === undefined ? null : { days: dispositionDays },
  };
}

function revenueFields(policy: RevenuePolicy): FormFields {
  return {
    wonDate: policy.wonDate,
    segmentSource: policy.segments.source,
    segmentMeasure: policy.segments.measure,
    'band.label': policy.segments.bands.map((band) => band.label),
    'band.min': policy.segments.bands.map((band) => String(band.min)),
    'cost.channel': policy.channelCosts.map((row) => row.channel),
    'cost.month': policy.channelCosts.map((row) => row.month),
    'cost.amount': policy.channelCosts.map((row) => String(row.amount)),
  };
}

function revenueValue(fields: FormFields): unknown {
  return {
    wonDate: field(fields, 'wonDate'),
    segments: {
      source: field(fields, 'segmentSource'),
      measure: field(fields, 'segmentMeasure'),
      bands: rowsOf(fields, 'band', ['label', 'min']).map((row) => ({ label: (row.label ?? '').trim(), min: numberOf(row.min ?? '') })),
    },
    channelCosts: rowsOf(fields, 'cost', ['channel', 'month', 'amount']).map((row) => ({
      channel: (row.channel ?? '').trim(),
      month: (row.month ?? '').trim(),
      amount: numberOf(row.amount ?? ''),
    })),
  };
}

function commitmentsFields(value: MarketingCommitments): FormFields {
  return {
    period: value.period,
    'commitment.metric': value.commitments.map((row) => row.metric),
    'commitment.target': value.commitments.map((row) => String(row.target)),
    'commitment.channel': value.commitments.map((row) => row.channel ?? ''),
  };
}

function commitmentsValue(fields: FormFields): unknown {
  return {
    period: field(fields, 'period'),
    commitments: rowsOf(fields, 'commitment', ['metric', 'target', 'channel'], ['target', 'channel']).map((row) => {
      const channel = optional(row.channel);
      return { metric: row.metric, target: numberOf(row.target ?? ''), ...(channel === undefined ? {} : { channel }) };
    }),
  };
}

function goalsFields(value: SharedGoals): FormFields {
  return {
    'goal.quarter': value.goals.map((row) => row.quarter),
    'goal.kpi': value.goals.map((row) => row.kpi),
    'goal.target': value.goals.map((row) => String(row.target)),
    'goal.owner': value.goals.map((row) => row.owner),
  };
}

function goalsValue(fields: FormFields): unknown {
  return {
    goals: rowsOf(fields, 'goal', ['quarter', 'kpi', 'target', 'owner'], ['quarter', 'target', 'owner']).map((row) => ({
      quarter: (row.quarter ?? '').trim(),
      kpi: row.kpi,
      target: numberOf(row.target ?? ''),
      owner: (row.owner ?? '').trim(),
    })),
  };
}

function digestFields(value: ReviewDigest): FormFields {
  return {
    enabled: yesNo(value.enabled),
    every: value.every,
    weekday: String(value.weekday),
    hour: String(value.hour),
    timeZone: value.timeZone,
    period: value.period,
    emailTo: value.emailTo.join(', '),
    toAlertTarget: yesNo(value.toAlertTarget),
  };
}

function digestValue(fields: FormFields): unknown {
  return {
    enabled: field(fields, 'enabled') === 'yes',
    every: field(fields, 'every'),
    weekday: numberOf(field(fields, 'weekday')),
    hour: numberOf(field(fields, 'hour')),
    timeZone: field(fields, 'timeZone').trim(),
    period: field(fields, 'period'),
    // Addresses separated by commas, semicolons or new lines, as mail programs accept them.
    emailTo: field(fields, 'emailTo')
      .split(/[,;\n]/)
      .map((address) => address.trim())
      .filter((address) => address !== ''),
    toAlertTarget: field(fields, 'toAlertTarget') === 'yes',
  };
}

function ownerMatchingFields(value: OwnerMatching): FormFields {
  return {
    'pair.hubspotOwner': value.overrides.map((row) => row.hubspotOwner),
    'pair.salesforceUser': value.overrides.map((row) => row.salesforceUser),
  };
}

function ownerMatchingValue(fields: FormFields): unknown {
  return {
    overrides: rowsOf(fields, 'pair', ['hubspotOwner', 'salesforceUser']).map((row) => ({
      hubspotOwner: (row.hubspotOwner ?? '').trim(),
      salesforceUser: (row.salesforceUser ?? '').trim(),
    })),
  };
}

/** Each setting's form: its value as fields, and fields read back (with what could not be read). */
const FORMS: {
  readonly [K in SettingKey]: { fields(value: unknown): FormFields; read(fields: FormFields): { value: unknown; problems: string[] } };
} = {
  stageDictionary: { fields: (v) => dictionaryFields(v as StageDictionary), read: (f) => ({ value: dictionaryValue(f), problems: [] }) },
  fieldMappings: { fields: (v) => mappingsFields(v as FieldMapping[]), read: mappingsValue },
  channelRules: { fields: (v) => channelFields(v as ChannelRules), read: channelValue },
  feedbackTaxonomy: { fields: (v) => taxonomyFields(v as FeedbackTaxonomy), read: (f) => ({ value: taxonomyValue(f), problems: [] }) },
  slaPolicy: { fields: (v) => slaFields(v as SlaPolicy), read: (f) => ({ value: slaValue(f), problems: [] }) },
  revenuePolicy: { fields: (v) => revenueFields(v as RevenuePolicy), read: (f) => ({ value: revenueValue(f), problems: [] }) },
  marketingCommitments: {
    fields: (v) => commitmentsFields(v as MarketingCommitments),
    read: (f) => ({ value: commitmentsValue(f), problems: [] }),
  },
  sharedGoals: { fields: (v) => goalsFields(v as SharedGoals), read: (f) => ({ value: goalsValue(f), problems: [] }) },
  reviewDigest: { fields: (v) => digestFields(v as ReviewDigest), read: (f) => ({ value: digestValue(f), problems: [] }) },
  ownerMatching: { fields: (v) => ownerMatchingFields(v as OwnerMatching), read: (f) => ({ value: ownerMatchingValue(f), problems: [] }) },
  privacyPolicy: {
    fields: (v) => ({ salesforceRecords: (v as PrivacyPolicy).salesforceRecords }),
    read: (f) => ({ value: { salesforceRecords: field(f, 'salesforceRecords') }, problems: [] }),
  },
  hubspotChangeFeed: {
    fields: (v) => ({ mode: (v as ChangeFeedSetting).mode }),
    read: (f) => ({ value: { mode: field(f, 'mode') }, problems: [] }),
  },
  deletionPolicy: {
    fields: (v) => ({
      hubspotContactDeleted: (v as DeletionPolicy).hubspotContactDeleted,
      salesforceRecordDeleted: (v as DeletionPolicy).salesforceRecordDeleted,
    }),
    read: (f) => ({
      value: { hubspotContactDeleted: field(f, 'hubspotContactDeleted'), salesforceRecordDeleted: field(f, 'salesforceRecordDeleted') },
      problems: [],
    }),
  },
  salesforceFeed: {
    fields: (v) => ({ mode: (v as ChangeFeedSetting).mode }),
    read: (f) => ({ value: { mode: field(f, 'mode') }, problems: [] }),
  },
};

/** The form fields of a setting's value. */
export function fieldsOf(key: SettingKey, value: unknown): FormFields {
  return FORMS[key].fields(value);
}

/**
 * The setting a form describes, for the validators; `problems` holds what could not even be read
 * (a channel condition line), reported with the validator's messages.
 */
export function valueFromFields(key: SettingKey, fields: FormFields): { value: unknown; problems: string[] } {
  return FORMS[key].read(fields);
}
