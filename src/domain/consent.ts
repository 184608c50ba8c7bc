/**
 * Email consent across the two systems (docs/architecture.md §17): the one rule for HubSpot's
 * "unsubscribed from all email" (`hs_email_optout`) and Salesforce's `HasOptedOutOfEmail` on the
 * Lead or Contact.
 *
 * The rule:
 * 1. Opt-outs cross. When a side becomes opted out (it was not when the app last looked), the other
 *    side is opted out too: HubSpot through its subscription API, Salesforce by ticking the box.
 * 2. Opt-ins never cross. A side that goes from opted out to opted in (the person resubscribed on
 *    HubSpot's preferences page, or a rep unticked the box) is left as it is and the other side keeps
 *    its opt-out: resubscribing someone needs that person's consent, which the app cannot see. It is
 *    logged for a person to act on.
 * 3. The app never writes an opt-in, anywhere.
 * What the app last saw of both sides is remembered per contact, so a value read late (a webhook
 * delivered after the app's own opt-out, a stale read) is never taken for a new opt-in, and an
 * opt-out is carried once, not on every sync.
 */
import { z } from 'zod';
import { err, ok, type Result } from './result.ts';

/** Whether each side is opted out now; null when that side has no record to read. */
export interface ConsentNow {
  hubspot: boolean | null;
  salesforce: boolean | null;
}

/** What the app saw of both sides after its last consent sync of the contact (null: never). */
export interface ConsentMemory {
  hubspot: boolean;
  salesforce: boolean;
}

export type ConsentSide = 'hubspot' | 'salesforce';

export interface ConsentDecision {
  /** The side to opt out (the opt-out of the other side crosses), if any. */
  optOut: ConsentSide | null;
  /** A side that went from opted out to opted in while the other side is still opted out: not carried. */
  optInHeld: ConsentSide | null;
  /** What to remember once the decided write (if any) has succeeded. */
  remember: ConsentMemory;
  reason: string;
}

const other = (side: ConsentSide): ConsentSide => (side === 'hubspot' ? 'salesforce' : 'hubspot');
const LABEL: Readonly<Record<ConsentSide, string>> = { hubspot: 'HubSpot', salesforce: 'Salesforce' };

/** Decides what the consent of one contact asks of the app (see the rule above). */
export function decideConsent(now: ConsentNow, before: ConsentMemory | null): ConsentDecision {
  const seen: ConsentMemory = {
    hubspot: now.hubspot ?? before?.hubspot ?? false,
    salesforce: now.salesforce ?? before?.salesforce ?? false,
  };
  for (const side of ['salesforce', 'hubspot'] as const) {
    const target = other(side);
    const newlyOut = now[side] === true && before?.[side] !== true;
    if (newlyOut && now[target] === false) {
      return {
        optOut: target,
        optInHeld: null,
        remember: { ...seen, [target]: true },
        reason: `opted out of email in ${LABEL[side]}: the opt-out crosses to ${LABEL[target]}`,
      };
    }
  }
  for (const side of ['salesforce', 'hubspot'] as const) {
    const target = other(side);
    const optedBackIn = now[side] === false && before?.[side] === true;
    if (optedBackIn && now[target] === true) {
      return {
        optOut: null,
        optInHeld: side,
        remember: seen,
        reason: `opted in again in ${LABEL[side]} while ${LABEL[target]} keeps the opt-out: opt-ins never cross; resubscribing in ${LABEL[target]} needs the person's own consent`,
      };
    }
  }
  return { optOut: null, optInHeld: null, remember: seen, reason: 'consent agrees on both sides' };
}

/** True when the app has nothing to remember that it does not already know. */
export function sameMemory(a: ConsentMemory | null, b: ConsentMemory): boolean {
  return a !== null && a.hubspot === b.hubspot && a.salesforce === b.salesforce;
}

/** A Salesforce checkbox or HubSpot boolean as read from either API (`true`, `"true"`). */
export function optedOutValue(value: unknown): boolean | null {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return null;
}

/**
 * What a GDPR erasure does with the Salesforce record linked to the erased contact (admin setting).
 * - `anonymize` (default): the Lead/Contact stays, for the pipeline and revenue history its
 *   Opportunities carry, but every personal value the API lets the app write is blanked or replaced.
 * - `unlink`: the app forgets the link and its own copy of the person; Salesforce is not touched
 *   (for orgs whose own privacy process erases Salesforce).
 */
export const PRIVACY_SALESFORCE_POLICIES = ['anonymize', 'unlink'] as const;
export type PrivacySalesforcePolicy = (typeof PRIVACY_SALESFORCE_POLICIES)[number];
export const DEFAULT_PRIVACY_SALESFORCE_POLICY: PrivacySalesforcePolicy = 'anonymize';

/** The value written in place of a required name on an anonymized record. */
export const ANONYMIZED = 'Anonymized';

/**
 * The writes that anonymize a Salesforce person record: required fields (Lead LastName and
 * Company, Contact LastName) get a placeholder, the others are blanked (null clears a field in the
 * REST API). Converted Leads cannot be updated in Salesforce: their Contact carries the person.
 */
export function anonymizedFields(type: 'Lead' | 'Contact'): Record<string, string | boolean | null> {
  const common = {
    FirstName: null,
    LastName: ANONYMIZED,
    Email: null,
    Phone: null,
    Title: null,
    MobilePhone: null,
    Description: null,
    Feedback_Notes__c: null,
    HubSpot_Contact_Id__c: null,
    HasOptedOutOfEmail: true,
  };
  return type === 'Lead' ? { ...common, Company: ANONYMIZED, Website: null } : common;
}

/** The admin's privacy policy (`settings.privacyPolicy`). */
export interface PrivacyPolicy {
  salesforceRecords: PrivacySalesforcePolicy;
}

export const DEFAULT_PRIVACY_POLICY: PrivacyPolicy = { salesforceRecords: DEFAULT_PRIVACY_SALESFORCE_POLICY };

export const PrivacyPolicySchema = z.object({ salesforceRecords: z.enum(PRIVACY_SALESFORCE_POLICIES) }).strict();

/** Validates a privacy policy; every problem is listed. */
export function validatePrivacyPolicy(input: unknown): Result<PrivacyPolicy, string[]> {
  const parsed = PrivacyPolicySchema.safeParse(input);
  return parsed.success
    ? ok(parsed.data)
    : err(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'privacyPolicy'}: ${issue.message}`));
}

/** What changing the privacy policy does: only erasures from now on follow it. */
export function previewPrivacyPolicy(
  current: PrivacyPolicy,
  next: PrivacyPolicy,
): { changed: boolean; lines: { level: 'info' | 'warn'; count: number; text: string }[]; restampOffered: false } {
  if (current.salesforceRecords === next.salesforceRecords) return { changed: false, lines: [], restampOffered: false };
  const text =
    next.salesforceRecords === 'anonymize'
      ? 'HubSpot privacy deletions from now on anonymize the linked Salesforce Lead or Contact'
      : 'HubSpot privacy deletions from now on leave the linked Salesforce Lead or Contact as it is (the app erases its own copy and unlinks it); the person must then be erased in Salesforce by its admin';
  return {
    changed: true,
    lines: [{ level: next.salesforceRecords === 'unlink' ? 'warn' : 'info', count: 0, text }],
    restampOffered: false,
  };
}
