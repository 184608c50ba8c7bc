/**
 * Outbound Messages carry no signature. What proves the sender: the unguessable per-installation
 * token in the endpoint path, and the OrganizationId inside the envelope matching that
 * installation's org (compared on the first 15 characters, so either id form matches).
 */
import { timingSafeEqual } from 'node:crypto';
import { salesforceId15 } from '../../src/domain/salesforce-id.ts';

/** True when two org ids name the same org (15- or 18-character forms), compared in constant time. */
export function sameOrg(expected: string, given: string): boolean {
  const a = Buffer.from(salesforceId15(expected));
  const b = Buffer.from(salesforceId15(given));
  return a.length === b.length && timingSafeEqual(a, b);
}
