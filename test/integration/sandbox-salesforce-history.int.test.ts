/**
 * Field history tracking in the sandbox Salesforce org, through jsforce: the fields an admin tracks
 * get a `LeadHistory` / `ContactHistory` row per change, queryable and never writable; untracked
 * fields and other objects get none.
 */
import type { Connection } from 'jsforce';
import { describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { sandboxOrgPerTest } from '../support/salesforce-org.ts';

let sandbox: SalesforceSandbox;
let conn: Connection;
let clock = Date.parse('2026-11-02T09:00:00.000Z');

sandboxOrgPerTest(
  (org) => {
    ({ sandbox, integration: conn } = org);
  },
  { now: () => clock },
);

describe('field history tracking', () => {
  it('keeps a row per change of a tracked field, with the values, the user and the time', async () => {
    const created = await conn.sobject('Lead').create({ LastName: 'Lee', Company: 'Acme', Title: 'Analyst', Phone: '+1 555 0100' });
    const leadId = String(created.id);
    expect(sandbox.fieldHistory.set('Lead', ['Title'])).toEqual(['Title']);
    clock += 60_000;
    await conn.sobject('Lead').update({ Id: leadId, Title: 'Head of Analytics', Phone: '+1 555 0101' });
    clock += 60_000;
    await conn.sobject('Lead').update({ Id: leadId, Title: 'VP Analytics' });
    const rows = (
      await conn.query<{ Field: string; OldValue: string | null; NewValue: string | null; CreatedDate: string; CreatedById: string }>(
        `SELECT Field, OldValue, NewValue, CreatedDate, CreatedById FROM LeadHistory WHERE LeadId = '${leadId}' ORDER BY CreatedDate DESC`,
      )
    ).records.map(({ attributes: _attributes, ...row }: Record<string, unknown>) => row);
    expect(rows).toEqual([
      {
        Field: 'Title',
        OldValue: 'Head of Analytics',
        NewValue: 'VP Analytics',
        CreatedDate: '2026-11-02T09:02:00.000+0000',
        CreatedById: sandbox.integrationUserId,
      },
      {
        Field: 'Title',
        OldValue: 'Analyst',
        NewValue: 'Head of Analytics',
        CreatedDate: '2026-11-02T09:01:00.000+0000',
        CreatedById: sandbox.integrationUserId,
      },
    ]);
  });

  it('refuses writes to a history object and tracking beyond 20 fields or of an unknown field', async () => {
    await expect(conn.sobject('LeadHistory').create({ Field: 'Title' })).rejects.toMatchObject({ errorCode: 'INVALID_TYPE_FOR_OPERATION' });
    const many = (await conn.sobject('Lead').describe()).fields.map((f) => f.name).slice(0, 21);
    const tooMany = await fetch(`${sandbox.url}/__sandbox/field-history`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ object: 'Lead', fields: many }),
    });
    expect(tooMany.status).toBe(400);
    expect(() => sandbox.fieldHistory.set('Contact', ['Shoe_Size__c'])).toThrow(/no such Contact field: Shoe_Size__c/);
    expect(() => sandbox.fieldHistory.set('Opportunity', ['StageName'])).toThrow(/track Lead or Contact/);
    const contact = await conn.sobject('Contact').create({ LastName: 'Kim' });
    await conn.sobject('Contact').update({ Id: String(contact.id), LastName: 'Kimura' });
    expect((await conn.query(`SELECT Id FROM ContactHistory WHERE ContactId = '${String(contact.id)}'`)).totalSize).toBe(0);
  });
});
