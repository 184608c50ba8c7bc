/**
 * The Salesforce adapter's writes: Lead upserts by HubSpot id, record updates, creates and deletes
 * in sObject Collections of 200, and Lead conversion (SOAP).
 */
import type { DmlOptions } from 'jsforce';
import { CrmRejectedError } from '../errors.ts';
import type { SalesforcePort, WriteOutcome } from '../ports.ts';
import { HUBSPOT_ID_FIELD, convertResultSchema, sobjectName } from './mapper.ts';
import type { SalesforceTransport } from './transport.ts';

/** Merges records with the same key (later values win) so one collection never names a record twice. */
function coalesce<T extends Record<string, unknown>>(records: readonly T[], keyOf: (record: T) => string): Map<string, T> {
  const merged = new Map<string, T>();
  for (const record of records) {
    const key = keyOf(record);
    const earlier = merged.get(key);
    merged.set(key, earlier === undefined ? { ...record } : { ...earlier, ...record });
  }
  return merged;
}

/** Lead upserts (assignment rules decide the owner unless the app chose one) and conversion. */
export function leadWrites(t: SalesforceTransport): Pick<SalesforcePort, 'upsertLeadsByHubSpotId' | 'convertLead'> {
  return {
    async upsertLeadsByHubSpotId(leads) {
      const outcomes = new Map<string, WriteOutcome>();
      const merged = coalesce(leads, (lead) => String(lead[HUBSPOT_ID_FIELD]));
      const blank = merged.get('');
      if (blank !== undefined) {
        merged.delete('');
        outcomes.set('', {
          ok: false,
          code: 'REQUIRED_FIELD_MISSING',
          message: `${HUBSPOT_ID_FIELD} is empty`,
          fields: [HUBSPOT_ID_FIELD],
        });
      }
      // Assignment rules pick the owner (jsforce sends DmlOptions.headers). Salesforce applies them to
      // updated Leads as well, so an upsert of an existing Lead may move it to another owner. An
      // absent header means TRUE for the REST API, and the rules overwrite an OwnerId sent with the
      // record (REST API Developer Guide, "Assignment Rule Header"): a Lead the app gives an owner
      // goes with FALSE.
      const owned = [...merged].filter(([, lead]) => typeof lead.OwnerId === 'string' && lead.OwnerId !== '');
      const assigned = [...merged].filter(([, lead]) => !(typeof lead.OwnerId === 'string' && lead.OwnerId !== ''));
      for (const [group, autoAssign] of [
        [assigned, 'TRUE'],
        [owned, 'FALSE'],
      ] as const) {
        if (group.length === 0) continue;
        const dml: DmlOptions = { allOrNone: false, headers: { 'Sforce-Auto-Assign': autoAssign } };
        const results = await t.inCollections(
          'upsert leads',
          group.map(([, lead]) => lead),
          (part) => t.conn.upsert('Lead', part, HUBSPOT_ID_FIELD, dml),
          false,
        );
        group.forEach(([key], index) => {
          const outcome = results[index];
          if (outcome !== undefined) outcomes.set(key, outcome);
        });
      }
      return outcomes;
    },

    async convertLead(leadId, convertedStatus, createOpportunity) {
      const answer = await t.call('convert lead', () =>
        t.conn.soap.convertLead({ leadId, convertedStatus, doNotCreateOpportunity: !createOpportunity, overwriteLeadSource: false }),
      );
      const result = t.parseAnswer(convertResultSchema, answer, 'convert lead');
      const errors =
        result.errors === undefined || result.errors === null ? [] : Array.isArray(result.errors) ? result.errors : [result.errors];
      if (!result.success || typeof result.contactId !== 'string' || typeof result.accountId !== 'string') {
        const first = errors[0];
        const code = first?.statusCode ?? first?.errorCode ?? 'CONVERT_FAILED';
        throw new CrmRejectedError('salesforce', code, `Salesforce convert lead ${leadId}: ${code}: ${first?.message ?? 'not converted'}`);
      }
      return {
        contactId: result.contactId,
        accountId: result.accountId,
        opportunityId: typeof result.opportunityId === 'string' ? result.opportunityId : null,
      };
    },
  };
}

/** Updates, creates and deletes of any object, keyed or ordered as the port says. */
export function recordWrites(t: SalesforceTransport): Pick<SalesforcePort, 'updateRecords' | 'createRecords' | 'deleteRecords'> {
  return {
    async updateRecords(type, records) {
      const name = sobjectName(type);
      const merged = coalesce(records, (record) => record.Id);
      const keys = [...merged.keys()];
      // Without this header Salesforce re-runs Lead assignment rules on every update and the
      // owner a rep already has would change; only new Leads are assigned (upsert sends TRUE).
      const dml: DmlOptions = { allOrNone: false, headers: { 'Sforce-Auto-Assign': 'FALSE' } };
      const results = await t.inCollections(`update ${name}`, [...merged.values()], (part) => t.conn.update(name, part, dml), false);
      return new Map(
        keys.flatMap((key, index) => {
          const outcome = results[index];
          return outcome === undefined ? [] : [[key, outcome] as const];
        }),
      );
    },

    async createRecords(type, records) {
      const name = sobjectName(type);
      return t.inCollections(`create ${name}`, records, (part) => t.conn.create(name, part, { allOrNone: false }), true);
    },

    async deleteRecords(type, ids) {
      const name = sobjectName(type);
      const wanted = [...new Set(ids)];
      const results = await t.inCollections(`delete ${name}`, wanted, (part) => t.conn.destroy(name, part, { allOrNone: false }), false);
      return new Map(
        wanted.flatMap((id, index) => {
          const outcome = results[index];
          return outcome === undefined ? [] : [[id, outcome] as const];
        }),
      );
    },
  };
}
