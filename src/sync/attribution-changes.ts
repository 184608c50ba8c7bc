/**
 * What an attribution stamp changes on each CRM's record (docs/architecture.md §3): the HubSpot
 * properties and Salesforce fields whose stored value says something else (times compare as
 * instants, blanks as absent), Salesforce values cut to their field's length, `LeadSource` only
 * when empty, and the Campaign names a stamp's touches join.
 */
import { SALESFORCE_CUSTOM_FIELDS } from '../crm/field-catalog.ts';
import type { Touches } from '../domain/attribution.ts';
import { fillLeadSource, type AttributionStamp } from '../domain/attribution-stamp.ts';
import { parseTimestamp, presentOrNull } from '../domain/validation.ts';
import { HUBSPOT_STAMP_PROPERTIES, SALESFORCE_STAMP_FIELDS } from './attribution-settings.ts';

/** Salesforce text lengths of the stamp fields (field-catalog.ts), so a long UTM never fails a save. */
const SALESFORCE_TEXT_LENGTHS: ReadonlyMap<string, number> = new Map(
  SALESFORCE_CUSTOM_FIELDS.filter((field) => field.object === 'Lead' && field.type === 'Text').map((field) => [
    field.name,
    field.length ?? 255,
  ]),
);
/** Campaign.Name holds at most 80 characters. */
const CAMPAIGN_NAME_LENGTH = 80;
/** The stamp fields whose change makes the record a member of its Campaign. */
export const CAMPAIGN_FIELDS = new Set(['First_Touch_Campaign__c', 'Last_Touch_Campaign__c']);

function isTimeField(field: string): boolean {
  return field.endsWith('_at') || field.endsWith('_At__c');
}

/** A stored value as text: a finite number as written, a string trimmed; null when blank or anything else. */
export function textOf(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' ? presentOrNull(value) : null;
}

/** Whether a stored value already says what the stamp says (times compare as instants, blanks as absent). */
export function sameStampValue(field: string, current: unknown, next: string | null): boolean {
  const a = textOf(current);
  const b = next === null ? null : presentOrNull(next);
  if (a === null || b === null) return a === b;
  if (isTimeField(field)) {
    const at = parseTimestamp(a);
    return at !== null && at === parseTimestamp(b);
  }
  return a === b;
}

/** A stamp value cut to the Salesforce field's length. */
function salesforceValue(field: string, value: string | null): string | null {
  const length = SALESFORCE_TEXT_LENGTHS.get(field);
  return value === null || length === undefined ? value : value.slice(0, length);
}

/** The HubSpot properties of a stamp that differ from the contact's current values. */
export function hubspotStampChanges(
  stamp: AttributionStamp,
  current: Readonly<Record<string, string | null | undefined>>,
): Record<string, string> {
  const changes: Record<string, string> = {};
  for (const property of HUBSPOT_STAMP_PROPERTIES) {
    const next = stamp.hubspot[property];
    if (!sameStampValue(property, current[property], next)) changes[property] = next;
  }
  return changes;
}

/**
 * The Salesforce fields of a stamp that differ from the record's (all non-blank ones for a record
 * not created yet), plus `LeadSource` when the record has none — an existing value is never replaced.
 */
export function salesforceStampChanges(
  stamp: AttributionStamp,
  record: Readonly<Record<string, unknown>> | undefined,
  firstChannel: string,
  leadSourceByChannel: Readonly<Record<string, string>>,
): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const field of SALESFORCE_STAMP_FIELDS) {
    const next = salesforceValue(field, stamp.salesforce[field]);
    if (record === undefined) {
      if (next !== null) changes[field] = next;
    } else if (!sameStampValue(field, record[field], next)) {
      changes[field] = next;
    }
  }
  const leadSource = fillLeadSource(textOf(record?.LeadSource), firstChannel, leadSourceByChannel);
  if (leadSource !== null) changes.LeadSource = leadSource;
  return changes;
}

/** The UTM campaigns a stamp names (first and last touch), as Campaign names. */
export function campaignsOf(touches: Touches): string[] {
  const names = new Map<string, string>();
  for (const touch of [touches.first, touches.last]) {
    const name = touch.campaign === null ? null : presentOrNull(touch.campaign.slice(0, CAMPAIGN_NAME_LENGTH));
    if (name !== null && !names.has(name.toLowerCase())) names.set(name.toLowerCase(), name);
  }
  return [...names.values()];
}
