/**
 * Salesforce record ids: 15 case-sensitive characters (3-character key prefix first) plus, in the
 * 18-character form every API returns, a 3-character case-safe checksum.
 */

/** Key prefixes of the objects the sandbox org knows. */
export const KEY_PREFIXES = {
  Lead: '00Q',
  Contact: '003',
  Account: '001',
  Opportunity: '006',
  Campaign: '701',
  CampaignMember: '00v',
  CampaignMemberStatus: '01Y',
  Task: '00T',
  User: '005',
  OpportunityStage: '01J',
  LeadStatus: '01J',
  CustomField: '00N',
  Organization: '00D',
  QueryLocator: '01g',
  OutboundAction: '04k',
  OutboundNotification: '04l',
  PermissionSet: '0PS',
  FieldPermissions: '01k',
  ObjectPermissions: '110',
  PermissionSetAssignment: '0Pa',
  // Seen on CurrencyType ids in REST examples (`/sobjects/CurrencyType/01L…`).
  CurrencyType: '01L',
  // Every history object's ids start 017 (Object Reference, "Entity History").
  LeadHistory: '017',
  ContactHistory: '017',
} as const;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CHECKSUM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The 3-character suffix that makes a 15-character id case-insensitively unique. */
function checksum(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += CHECKSUM_ALPHABET.charAt(bits);
  }
  return suffix;
}

function base62(n: number, width: number): string {
  let out = '';
  let rest = Math.floor(n);
  while (rest > 0) {
    out = BASE62.charAt(rest % 62) + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, '0');
}

/** Builds an 18-character id: prefix, 2-character generation (changes on reset), 10-character counter. */
export function makeId(prefix: string, generation: number, counter: number): string {
  const id15 = `${prefix}${base62(generation, 2)}${base62(counter, 10)}`;
  return id15 + checksum(id15);
}

/** Normalizes a 15- or 18-character id to its 18-character form; null when it is not an id. */
export function toId18(value: string): string | null {
  if (!/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/.test(value)) return null;
  const id15 = value.slice(0, 15);
  const expected = checksum(id15);
  if (value.length === 18 && value.slice(15).toUpperCase() !== expected) return null;
  return id15 + expected;
}

/** The object an id belongs to, by key prefix (first match among the sandbox's objects). */
export function objectForId(id: string, candidates: readonly string[]): string | undefined {
  const prefix = id.slice(0, 3);
  return candidates.find((name) => (KEY_PREFIXES as Record<string, string>)[name] === prefix);
}
