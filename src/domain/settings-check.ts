/**
 * The admin's rules checked against the CRMs' own metadata: every Salesforce picklist value a rule
 * names is a value of that picklist in the org, every field the rules write exists and is writable
 * by the integration user, every HubSpot property and option exists in the portal. A rule that
 * passes its shape check but names a value the CRM does not have would stop the sync silently
 * ("no rule matches"); here it is refused with the value and where it is missing.
 */
import type { MarketingCommitments } from './commitments.ts';
import type { RevenuePolicy } from './revenue.ts';
import { leadSourceFor } from './attribution-stamp.ts';
import type { ChannelRules } from './channels.ts';
import type { FeedbackTaxonomy } from './feedback.ts';
import type { SlaPolicy } from './sla.ts';
import { hubspotKindOf, kindsMatch, salesforceKindOf, takesValueMap, type FieldKind } from './field-values.ts';
import { contactFieldOf, type FieldMapping, type FieldSyncRule, type StageDictionary } from './stages.ts';
import { sameValue } from './validation.ts';

/** A Salesforce field as describe shows it to the integration user. */
export interface SalesforceFieldFacts {
  readonly label: string;
  /** The describe type (string, picklist, double…) and a text field's most characters (0 otherwise). */
  readonly type: string;
  readonly length: number;
  readonly writable: boolean;
  /** Active picklist values; null when the field is not a picklist. */
  readonly picklistValues: readonly string[] | null;
}

/** A HubSpot contact property as the portal defines it. */
export interface HubSpotPropertyFacts {
  readonly label: string;
  readonly type: string;
  readonly fieldType: string | null;
  readonly readOnly: boolean;
  /** Option values of an enumeration; null for other types. */
  readonly options: readonly string[] | null;
}

/** What the check knows of both CRMs. An object the user cannot describe is absent. */
export interface CrmFacts {
  /** object → field API name → facts. */
  readonly salesforce: ReadonlyMap<string, ReadonlyMap<string, SalesforceFieldFacts>>;
  /** contact property name → facts. */
  readonly hubspot: ReadonlyMap<string, HubSpotPropertyFacts>;
}

/** The Salesforce objects each check reads. */
export const CHECKED_SALESFORCE_OBJECTS = ['Lead', 'Opportunity', 'Contact'] as const;

function listed(values: readonly string[]): string {
  const shown = values.slice(0, 12).map((value) => `"${value}"`);
  return values.length > 12 ? `${shown.join(', ')} and ${values.length - 12} more` : shown.join(', ');
}

/** Checks one value against a Salesforce picklist; a message, or null when the org has it. */
function salesforcePicklistProblem(facts: CrmFacts, path: string, object: string, field: string, value: string): string | null {
  const described = facts.salesforce.get(object);
  if (!described) return `${path}: "${value}" cannot be checked: the integration user cannot see the ${object} object in Salesforce`;
  const fieldFacts = described.get(field);
  if (!fieldFacts)
    return `${path}: "${value}" cannot be checked: the field ${object}.${field} is not in the org, or the integration user cannot see it (provisioning creates the app's fields and grants access to them)`;
  const values = fieldFacts.picklistValues ?? [];
  if (values.includes(value)) return null;
  const spelled = values.find((candidate) => sameValue(candidate, value));
  if (spelled !== undefined)
    return `${path}: "${value}" is spelled "${spelled}" in the ${fieldFacts.label} picklist (${object}.${field}) in Salesforce`;
  return `${path}: "${value}" is not a value of the ${fieldFacts.label} picklist (${object}.${field}) in Salesforce; its active values are ${listed(values)}`;
}

/** Checks one value against a HubSpot enumeration property; a message, or null when the portal has it. */
function hubspotOptionProblem(facts: CrmFacts, path: string, property: string, value: string): string | null {
  const propertyFacts = facts.hubspot.get(property);
  if (!propertyFacts)
    return `${path}: "${value}" cannot be checked: the contact property ${property} is not in the HubSpot portal (provisioning creates the app's properties)`;
  if (propertyFacts.options === null) return null;
  if (propertyFacts.options.includes(value)) return null;
  return `${path}: "${value}" is not an option of the ${propertyFacts.label} property (${property}) in HubSpot; its options are ${listed(propertyFacts.options)}`;
}

function collect(problems: (string | null)[]): string[] {
  return problems.filter((problem): problem is string => problem !== null);
}

/** The stage dictionary: Lead Status, reason and lifecycle values exist on their side. */
export function checkStageDictionary(dictionary: StageDictionary, facts: CrmFacts): string[] {
  const problems: (string | null)[] = [];
  dictionary.hubspotLifecycleOrder.forEach((stage, index) =>
    problems.push(hubspotOptionProblem(facts, `hubspotLifecycleOrder[${index}]`, 'lifecyclestage', stage)),
  );
  dictionary.rows.forEach((row, index) => {
    const at = `rows[${index}] (${row.stage})`;
    for (const [property, value] of Object.entries(row.hubspot ?? {})) {
      if (value !== undefined) problems.push(hubspotOptionProblem(facts, `${at}.hubspot.${property}`, property, value));
    }
    const salesforce = row.salesforce;
    if (salesforce?.object === 'Lead') {
      if (salesforce.status !== undefined)
        problems.push(salesforcePicklistProblem(facts, `${at}.salesforce.status`, 'Lead', 'Status', salesforce.status));
      salesforce.reasons?.forEach((reason, r) =>
        problems.push(salesforcePicklistProblem(facts, `${at}.salesforce.reasons[${r}]`, 'Lead', 'Feedback_Reason__c', reason)),
      );
    } else if (salesforce?.object === 'Opportunity') {
      salesforce.reasons?.forEach((reason, r) =>
        problems.push(salesforcePicklistProblem(facts, `${at}.salesforce.reasons[${r}]`, 'Opportunity', 'Loss_Reason__c', reason)),
      );
    }
  });
  return collect(problems);
}

/** Whether a rule ever writes HubSpot's value to Salesforce (every rule but always_salesforce and dont_sync). */
function writesSalesforce(rule: FieldSyncRule): boolean {
  return rule === 'prefer_salesforce_unless_blank' || rule === 'two_way';
}

/**
 * The field rules: every synced pair exists with kinds that carry the same values; the HubSpot
 * property is writable (every rule but dont_sync may write HubSpot) and the Salesforce field too
 * unless Salesforce always wins; a value map names values each side has, and every picklist value
 * that may cross has a counterpart on the other side (the same value, or one the map names).
 */
export function checkFieldMappings(mappings: readonly FieldMapping[], facts: CrmFacts): string[] {
  const problems: string[] = [];
  const lead = facts.salesforce.get('Lead');
  mappings.forEach((mapping, index) => {
    if (mapping.rule === 'dont_sync') return;
    const field = lead?.get(mapping.salesforceField);
    if (!lead)
      problems.push(
        `[${index}].salesforceField: "${mapping.salesforceField}" cannot be checked: the integration user cannot see the Lead object in Salesforce`,
      );
    else if (!field)
      problems.push(
        `[${index}].salesforceField: "${mapping.salesforceField}" is not a Lead field in Salesforce, or the integration user cannot see it`,
      );
    else if (!field.writable && mapping.rule !== 'always_salesforce') {
      problems.push(
        `[${index}].salesforceField: "${mapping.salesforceField}" (${field.label}) is read-only to the integration user in Salesforce: grant Edit in its field-level security, or choose always_salesforce`,
      );
    }
    const property = facts.hubspot.get(mapping.hubspotProperty);
    if (!property)
      problems.push(`[${index}].hubspotProperty: "${mapping.hubspotProperty}" is not a contact property in the HubSpot portal`);
    else if (property.readOnly)
      problems.push(
        `[${index}].hubspotProperty: "${mapping.hubspotProperty}" (${property.label}) is calculated by HubSpot and cannot be written: choose dont_sync or another property`,
      );
    if (field && property && !property.readOnly) problems.push(...kindProblems(index, mapping, property, field));
    problems.push(...contactFieldProblems(index, mapping, facts, property));
  });
  return problems;
}

/**
 * The Contact field a mapping follows after conversion: there, writable unless Salesforce always
 * wins, and of a kind the HubSpot property carries.
 */
function contactFieldProblems(index: number, mapping: FieldMapping, facts: CrmFacts, property: HubSpotPropertyFacts | undefined): string[] {
  const name = contactFieldOf(mapping);
  const contact = facts.salesforce.get('Contact');
  if (name === null || !contact) return [];
  const at = `[${index}].salesforceContactField`;
  const which =
    mapping.salesforceContactField === undefined ? `"${name}" (where lead conversion copies ${mapping.salesforceField})` : `"${name}"`;
  const field = contact.get(name);
  if (!field)
    return [
      `${at}: ${which} is not a Contact field in Salesforce, or the integration user cannot see it: name the Contact field, or null to follow the Lead only`,
    ];
  if (!field.writable && mapping.rule !== 'always_salesforce')
    return [
      `${at}: ${which} (${field.label}) is read-only to the integration user in Salesforce: grant Edit in its field-level security, or choose always_salesforce`,
    ];
  // A property that cannot be written is reported once, above.
  const hubspotKind = property && !property.readOnly ? hubspotKindOf(property.type, property.fieldType) : null;
  const contactKind = salesforceKindOf(field.type);
  if (hubspotKind !== null && (contactKind === null || !kindsMatch(hubspotKind, contactKind)))
    return [
      `${at}: "${mapping.hubspotProperty}" is ${KIND_WORDS[hubspotKind]} in HubSpot but Contact field ${which} is ${contactKind === null ? `a ${field.type} field` : KIND_WORDS[contactKind]}: map fields of the same kind`,
    ];
  return [];
}

const KIND_WORDS: Readonly<Record<FieldKind, string>> = {
  text: 'text',
  number: 'a number',
  date: 'a date',
  datetime: 'a date and time',
  boolean: 'a checkbox',
  picklist: 'a picklist',
  multipicklist: 'a multi-select picklist',
};

/** The pair's kinds, its value map and its picklist values against both sides' metadata. */
function kindProblems(index: number, mapping: FieldMapping, property: HubSpotPropertyFacts, field: SalesforceFieldFacts): string[] {
  const at = `[${index}]`;
  const hubspotKind = hubspotKindOf(property.type, property.fieldType);
  const salesforceKind = salesforceKindOf(field.type);
  if (hubspotKind === null)
    return [
      `${at}.hubspotProperty: "${mapping.hubspotProperty}" (${property.label}) is a ${property.fieldType ?? property.type} property, which no mapping can carry`,
    ];
  if (salesforceKind === null)
    return [`${at}.salesforceField: "${mapping.salesforceField}" (${field.label}) is a ${field.type} field, which no mapping can carry`];
  if (!kindsMatch(hubspotKind, salesforceKind)) {
    return [
      `${at}: "${mapping.hubspotProperty}" is ${KIND_WORDS[hubspotKind]} in HubSpot but "${mapping.salesforceField}" is ${KIND_WORDS[salesforceKind]} in Salesforce: map properties and fields of the same kind`,
    ];
  }
  const valueMap = mapping.valueMap ?? [];
  if (valueMap.length > 0 && !takesValueMap(hubspotKind, salesforceKind))
    return [
      `${at}.valueMap: a value map is for picklists, and neither "${mapping.hubspotProperty}" nor "${mapping.salesforceField}" is one`,
    ];
  const problems: string[] = [];
  const hubspotOptions = property.options;
  const salesforceValues = field.picklistValues;
  valueMap.forEach((entry, v) => {
    if (hubspotOptions !== null && !hubspotOptions.includes(entry.hubspot))
      problems.push(
        `${at}.valueMap[${v}].hubspot: "${entry.hubspot}" is not an option of ${property.label} (${mapping.hubspotProperty}) in HubSpot; its options are ${listed(hubspotOptions)}`,
      );
    if (salesforceValues !== null && !salesforceValues.includes(entry.salesforce))
      problems.push(
        `${at}.valueMap[${v}].salesforce: "${entry.salesforce}" is not an active value of the ${field.label} picklist (Lead.${mapping.salesforceField}) in Salesforce; its active values are ${listed(salesforceValues)}`,
      );
  });
  // Each value that may cross lands on a value the other side has (and fits).
  const toSalesforce = (value: string) => valueMap.find((e) => e.hubspot === value)?.salesforce ?? value;
  if (writesSalesforce(mapping.rule) && hubspotOptions !== null && salesforceKind === 'text' && field.length > 0) {
    const tooLong = hubspotOptions.map(toSalesforce).filter((value) => value.length > field.length);
    if (tooLong.length > 0)
      problems.push(
        `${at}.salesforceField: "${mapping.salesforceField}" (${field.label}) holds at most ${field.length} characters, and ${listed(tooLong)} from ${mapping.hubspotProperty} ${tooLong.length === 1 ? 'is' : 'are'} longer: Salesforce would refuse ${tooLong.length === 1 ? 'it' : 'them'}; map ${tooLong.length === 1 ? 'it' : 'each'} to a shorter value, or choose a longer field`,
      );
  }
  if (hubspotOptions === null || salesforceValues === null) return problems;
  const toHubSpot = (value: string) => valueMap.find((e) => e.salesforce === value)?.hubspot ?? value;
  if (writesSalesforce(mapping.rule)) {
    const stranded = hubspotOptions.filter((option) => !salesforceValues.includes(toSalesforce(option)));
    if (stranded.length > 0)
      problems.push(
        `${at}.valueMap: HubSpot ${listed(stranded)} of ${mapping.hubspotProperty} ${stranded.length === 1 ? 'has' : 'have'} no value in the ${field.label} picklist (Lead.${mapping.salesforceField}): map ${stranded.length === 1 ? 'it' : 'each'} to one of ${listed(salesforceValues)}`,
      );
  }
  const strandedInHubSpot = salesforceValues.filter((value) => !hubspotOptions.includes(toHubSpot(value)));
  if (strandedInHubSpot.length > 0)
    problems.push(
      `${at}.valueMap: Salesforce ${listed(strandedInHubSpot)} of Lead.${mapping.salesforceField} ${strandedInHubSpot.length === 1 ? 'has' : 'have'} no option in ${property.label} (${mapping.hubspotProperty}): map ${strandedInHubSpot.length === 1 ? 'it' : 'each'} to one of ${listed(hubspotOptions)}`,
    );
  return problems;
}

/** The channel rules: the Lead Source each channel fills in exists in the org's picklist. */
export function checkChannelRules(rules: ChannelRules, leadSourceByChannel: Readonly<Record<string, string>>, facts: CrmFacts): string[] {
  const problems: (string | null)[] = [];
  const seen = new Set<string>();
  const channels: [string, string][] = [
    ...rules.rules.map((rule, index): [string, string] => [`rules[${index}].channel`, rule.channel]),
    ['fallbackChannel', rules.fallbackChannel],
  ];
  for (const [path, channel] of channels) {
    if (seen.has(channel)) continue;
    seen.add(channel);
    const leadSource = leadSourceFor(channel, leadSourceByChannel);
    const problem = salesforcePicklistProblem(facts, path, 'Lead', 'LeadSource', leadSource);
    if (problem !== null) problems.push(`${problem} (the Lead Source channel "${channel}" fills in)`);
  }
  return collect(problems);
}

/**
 * The feedback taxonomy: reason labels are Feedback Reason values. (What Lead Statuses and HubSpot
 * values mean is the stage dictionary's, checked with it.)
 */
export function checkFeedbackTaxonomy(taxonomy: FeedbackTaxonomy, facts: CrmFacts): string[] {
  return collect(
    taxonomy.reasons.map((reason, index) =>
      salesforcePicklistProblem(facts, `reasons[${index}].label`, 'Lead', 'Feedback_Reason__c', reason.label),
    ),
  );
}

/** The SLA policy: overrides name existing Lead Sources. */
export function checkSlaPolicy(policy: SlaPolicy, facts: CrmFacts): string[] {
  const problems: (string | null)[] = [];
  policy.overrides.forEach((override, index) => {
    if (override.leadSource !== undefined)
      problems.push(salesforcePicklistProblem(facts, `overrides[${index}].leadSource`, 'Lead', 'LeadSource', override.leadSource));
  });
  return collect(problems);
}

/** The revenue policy: each channel given a cost is one the channel rules can produce. */
export function checkRevenuePolicy(policy: RevenuePolicy, rules: ChannelRules): string[] {
  const channels = new Map([...rules.rules.map((rule) => rule.channel), rules.fallbackChannel].map((name) => [name.toLowerCase(), name]));
  return collect(
    policy.channelCosts.map((row, index) =>
      channels.has(row.channel.toLowerCase())
        ? null
        : `channelCosts[${index}].channel: "${row.channel}" is not a channel of the channel rules (${[...channels.values()].join(', ')})`,
    ),
  );
}

/** Marketing commitments: each channel a commitment is limited to is one the channel rules can produce. */
export function checkMarketingCommitments(commitments: MarketingCommitments, rules: ChannelRules): string[] {
  const channels = new Map([...rules.rules.map((rule) => rule.channel), rules.fallbackChannel].map((name) => [name.toLowerCase(), name]));
  return collect(
    commitments.commitments.map((row, index) =>
      row.channel === undefined || channels.has(row.channel.toLowerCase())
        ? null
        : `commitments[${index}].channel: "${row.channel}" is not a channel of the channel rules (${[...channels.values()].join(', ')})`,
    ),
  );
}
