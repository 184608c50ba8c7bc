/** The Salesforce adapter's general reads: records by id, by email, changed or deleted since a time. */
import type { SalesforcePort, SalesforceRecord } from '../ports.ts';
import { isSalesforceId } from '../../domain/salesforce-id.ts';
import { EMAILS_PER_QUERY, IDS_PER_QUERY, byEmailQuery, byIdsQuery, changedSinceQuery, sobjectName, soqlString } from './mapper.ts';
import type { SalesforceTransport } from './transport.ts';
import { salesforceTime } from '../../domain/salesforce-time.ts';

/** The history object of each person object, and its reference to the record. */
const HISTORY_OF = {
  Lead: { history: 'LeadHistory', parentField: 'LeadId' },
  Contact: { history: 'ContactHistory', parentField: 'ContactId' },
} as const;

/** Reads of records by id, by the Accounts they belong to, by email, and by SystemModstamp. */
export function recordReads(
  t: SalesforceTransport,
): Pick<SalesforcePort, 'readRecords' | 'contactsOfAccounts' | 'findByEmail' | 'findChangedSince' | 'findDeletedSince'> {
  return {
    async readRecords(type, ids, fields) {
      const name = sobjectName(type);
      const wanted = [...new Set(ids.filter(isSalesforceId))];
      const records: SalesforceRecord[] = [];
      for (let start = 0; start < wanted.length; start += IDS_PER_QUERY) {
        records.push(...(await t.runQuery(byIdsQuery(name, wanted.slice(start, start + IDS_PER_QUERY), fields), `read ${name}`)));
      }
      return records;
    },

    async contactsOfAccounts(accountIds) {
      const wanted = [...new Set(accountIds.filter(isSalesforceId))];
      const contacts: { id: string; accountId: string }[] = [];
      for (let start = 0; start < wanted.length; start += IDS_PER_QUERY) {
        const part = wanted.slice(start, start + IDS_PER_QUERY);
        const records = await t.runQuery(
          `SELECT Id, AccountId FROM Contact WHERE AccountId IN (${part.map(soqlString).join(', ')})`,
          'read contacts of accounts',
        );
        for (const record of records)
          if (typeof record.AccountId === 'string') contacts.push({ id: record.Id, accountId: record.AccountId });
      }
      return contacts;
    },

    async findByEmail(emails, also) {
      const wanted = [...new Set(emails.map((email) => email.trim().toLowerCase()).filter((email) => email !== ''))];
      // The Leads naming the contacts ride on the first Lead query (one query either way).
      const ids = [...new Set(also?.hubspotContactIds ?? [])];
      const leads: SalesforceRecord[] = [];
      const contacts: SalesforceRecord[] = [];
      for (let start = 0; start < Math.max(wanted.length, ids.length > 0 ? 1 : 0); start += EMAILS_PER_QUERY) {
        const part = wanted.slice(start, start + EMAILS_PER_QUERY);
        leads.push(
          ...(await t.runQuery(byEmailQuery('Lead', part, start === 0 ? ids : [], also?.leadFields ?? []), 'find leads by email')),
        );
        if (part.length > 0) contacts.push(...(await t.runQuery(byEmailQuery('Contact', part), 'find contacts by email')));
      }
      return { leads, contacts };
    },

    async findChangedSince(type, fields, since, limit) {
      return t.runQuery(changedSinceQuery(type, fields, since, limit), `changed ${type}`, 'data', limit);
    },

    async findDeletedSince(type, since, limit) {
      // queryAll: the recycle bin keeps deleted records 15 days (merged-away ones with MasterRecordId).
      const soql = changedSinceQuery(type, ['Id', 'MasterRecordId', 'IsDeleted'], since, limit).replace(
        ' WHERE ',
        ' WHERE IsDeleted = true AND ',
      );
      return t.runQuery(soql, `deleted ${type}`, 'data', limit, true);
    },
  };
}

/** Reads of the fields' history: when each tracked field of a record last changed. */
export function fieldHistoryReads(t: SalesforceTransport): Pick<SalesforcePort, 'fieldChangeTimes'> {
  return {
    async fieldChangeTimes(type, ids, fields) {
      // One row per change of a tracked field (Object Reference, "LeadHistory": Field is the changed
      // field's API name, CreatedDate when it changed); newest first, so each field's first row is its time.
      const { history, parentField } = HISTORY_OF[type];
      const wanted = [...new Set(ids.filter(isSalesforceId))];
      const times = new Map<string, Record<string, number>>();
      if (fields.length === 0) return times;
      for (let start = 0; start < wanted.length; start += IDS_PER_QUERY) {
        const part = wanted.slice(start, start + IDS_PER_QUERY);
        const rows = await t.runQuery(
          `SELECT Id, ${parentField}, Field, CreatedDate FROM ${history} WHERE ${parentField} IN (${part.map(soqlString).join(', ')}) AND Field IN (${fields.map(soqlString).join(', ')}) ORDER BY CreatedDate DESC`,
          `read ${history}`,
        );
        for (const row of rows) {
          const id = row[parentField];
          const at = salesforceTime(row.CreatedDate);
          if (typeof id !== 'string' || typeof row.Field !== 'string' || at === null) continue;
          const byField = times.get(id) ?? {};
          byField[row.Field] ??= at;
          times.set(id, byField);
        }
      }
      return times;
    },
  };
}
