/**
 * Salesforce record ids come in two forms naming the same record: 15 case-sensitive characters, and
 * 18 with a case checksum appended (the API answers with 18, Setup and URLs often show 15). Every
 * comparison of ids goes through here.
 */

const RECORD_ID = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;

/** Whether a string looks like a Salesforce record id (15 or 18 characters). */
export function isSalesforceId(value: string): boolean {
  return RECORD_ID.test(value);
}

/** The 15-character form of an id: the key under which both forms of it meet. */
export function salesforceId15(id: string): string {
  return id.slice(0, 15);
}

/** Whether two ids name the same record (either form); false when either is absent. */
export function sameSalesforceId(a: string | null | undefined, b: string | null | undefined): boolean {
  return typeof a === 'string' && typeof b === 'string' && salesforceId15(a) === salesforceId15(b);
}
