import { HubSpotError, errorBody } from './errors.ts';
import type { PropertyDefinition } from './model.ts';

/** A raw value as clients send it: strings mostly, but numbers, booleans and null are accepted too. */
export type PropertyInputValue = string | number | boolean | null;

/** How a write treats `lifecyclestage` and read-only properties. */
export interface WritePolicy {
  /**
   * `keep-forward`: API writes and form submissions. A move to an earlier stage is dropped without
   * an error: the write answers 2xx, the record keeps its stage (the response shows the kept value)
   * and nothing changes, so no event is sent. Clearing the stage to `""` first, in a request of its
   * own, is the way back. Sources (docs/reference/hubspot-api.md §3.1): HubSpot's contact-update docs ("The Lifecycle
   * stage is not designed to move backwards. If you need to set this property to a previous stage,
   * you will first need to set the value to "" (an empty string) and then set the new stage",
   * https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/v1/post-contacts-v1-contact-email-email-profile)
   * and HubSpot staff on a backward set that answered 204 and changed nothing
   * (https://integrate.hubspot.com/t/update-lifecycle-stage-using-api/1333).
   * `any`: HubSpot UI edits — users may move stages back.
   */
  lifecycle: 'keep-forward' | 'any';
  /** Sandbox-internal writes of calculated properties. */
  allowReadOnly: boolean;
}

export interface PropertyIssue {
  name: string;
  error: string;
  message: string;
}

export interface ValidatedWrites {
  /** Normalized values; `''` clears a property. */
  values: Map<string, string>;
  issues: PropertyIssue[];
}

const MAX_STRING_LENGTH = 65_536;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DIGITS = /^-?\d+$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Validates and normalizes property writes against the catalog of an object type. */
export function validateWrites(
  catalog: ReadonlyMap<string, PropertyDefinition>,
  current: Readonly<Record<string, string>> | undefined,
  input: Readonly<Record<string, PropertyInputValue>>,
  policy: WritePolicy,
): ValidatedWrites {
  const values = new Map<string, string>();
  const issues: PropertyIssue[] = [];
  for (const [name, raw] of Object.entries(input)) {
    const definition = catalog.get(name);
    if (definition === undefined) {
      issues.push({ name, error: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
      continue;
    }
    if (definition.readOnlyValue && !policy.allowReadOnly) {
      issues.push({ name, error: 'READ_ONLY_VALUE', message: `"${name}" is a read only property; its value cannot be set.` });
      continue;
    }
    const text = raw === null ? '' : String(raw);
    if (text === '') {
      values.set(name, '');
      continue;
    }
    const normalized = normalizeValue(definition, text);
    if (typeof normalized !== 'string') {
      issues.push({ name, ...normalized });
      continue;
    }
    if (name === 'email' && !EMAIL.test(normalized)) {
      issues.push({ name, error: 'INVALID_EMAIL', message: `Email address ${normalized} is invalid` });
      continue;
    }
    // Dropped, not refused: the other values of the same input are still written.
    if (name === 'lifecyclestage' && policy.lifecycle === 'keep-forward' && isBackwardMove(definition, current?.[name], normalized))
      continue;
    values.set(name, normalized);
  }
  return { values, issues };
}

/** The value as HubSpot stores and returns it, or the issue that refuses it. */
export function normalizeValue(definition: PropertyDefinition, text: string): string | Omit<PropertyIssue, 'name'> {
  switch (definition.type) {
    case 'string':
      return text.length > MAX_STRING_LENGTH
        ? { error: 'INVALID_STRING', message: `${definition.name} must be at most ${MAX_STRING_LENGTH} characters long` }
        : text;
    case 'number':
      return NUMBER.test(text.trim())
        ? String(Number(text.trim()))
        : { error: 'INVALID_FLOAT', message: `${JSON.stringify(text)} is not a valid number.` };
    case 'bool': {
      const lower = text.toLowerCase();
      return lower === 'true' || lower === 'false'
        ? lower
        : { error: 'INVALID_BOOLEAN', message: `${JSON.stringify(text)} is not a valid boolean. Use true or false.` };
    }
    case 'datetime': {
      const ms = DIGITS.test(text) ? Number(text) : Date.parse(text);
      return Number.isFinite(ms)
        ? new Date(ms).toISOString()
        : { error: 'INVALID_DATE', message: `${JSON.stringify(text)} is not a valid datetime (epoch millis or ISO 8601).` };
    }
    case 'date':
      return normalizeDate(text);
    case 'enumeration':
      return normalizeEnumeration(definition, text);
  }
}

function normalizeDate(text: string): string | Omit<PropertyIssue, 'name'> {
  if (DATE_ONLY.test(text) && Number.isFinite(Date.parse(text))) return text;
  const ms = DIGITS.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) {
    return { error: 'INVALID_DATE', message: `${JSON.stringify(text)} is not a valid date (midnight UTC epoch millis or YYYY-MM-DD).` };
  }
  const iso = new Date(ms).toISOString();
  if (!iso.endsWith('T00:00:00.000Z')) {
    return { error: 'INVALID_DATE', message: `${text} is at ${iso.slice(11, 23)} UTC, not midnight!` };
  }
  return iso.slice(0, 10);
}

function normalizeEnumeration(definition: PropertyDefinition, text: string): string | Omit<PropertyIssue, 'name'> {
  if (definition.externalOptions) return text;
  const allowed = new Set(definition.options.map((option) => option.value));
  const parts = definition.fieldType === 'checkbox' ? text.split(';') : [text];
  const wrong = parts.find((part) => !allowed.has(part));
  if (wrong === undefined) return text;
  return {
    error: 'INVALID_OPTION',
    message: `${wrong} was not one of the allowed options: [${[...allowed].join(', ')}]`,
  };
}

/** Position of a stage in the property's option order (admins may add or reorder stages). */
export function stageRank(definition: PropertyDefinition, value: string): number {
  const ordered = [...definition.options].sort((a, b) => a.displayOrder - b.displayOrder);
  return ordered.findIndex((option) => option.value === value);
}

function isBackwardMove(definition: PropertyDefinition, from: string | undefined, to: string): boolean {
  if (from === undefined || from === '') return false;
  const fromRank = stageRank(definition, from);
  const toRank = stageRank(definition, to);
  return fromRank >= 0 && toRank >= 0 && toRank < fromRank;
}

/**
 * The real 400 for invalid property values: the issues serialized into `message`
 * (`Property values were not valid: [{"isValid":false,…,"error":"PROPERTY_DOESNT_EXIST",…}]`)
 * plus the structured `errors[]` of newer CRM responses.
 */
export function propertyValidationError(issues: readonly PropertyIssue[], portalId: number): HubSpotError {
  const legacy = issues.map((issue) => ({
    isValid: false,
    message: issue.message,
    error: issue.error,
    name: issue.name,
    localizedErrorMessage: issue.message,
    portalId,
  }));
  return new HubSpotError(
    400,
    errorBody('VALIDATION_ERROR', `Property values were not valid: ${JSON.stringify(legacy)}`, {
      errors: issues.map((issue) => ({ message: issue.message, code: issue.error, context: { propertyName: [issue.name] } })),
    }),
  );
}
