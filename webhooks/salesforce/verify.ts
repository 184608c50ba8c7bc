/**
 * Outbound Messages carry no signature. What proves the sender: the unguessable per-installation
 * token in the endpoint path, and the OrganizationId inside the envelope matching that
 * installation's org (compared on the first 15 characters, so either id form matches).
 */
import { timingSafeEqual } from 'node:crypto';

/** The case-sensitive 15-character form of a Salesforce id. */
export function shortId(id: string): string {
  return id.slice(0, 15);
}

/** True when two org ids name the same org (15- or 18-character forms), compared in constant time. */
export function sameOrg(expected: string, given: string): boolean {
  const a = Buffer.from(shortId(expected));
  const b = Buffer.from(shortId(given));
  return a.length === b.length && timingSafeEqual(a, b);
}
