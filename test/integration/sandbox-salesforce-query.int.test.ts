/** SOQL against the sandbox Salesforce org through jsforce: paging, relationships, filters, date literals, errors. */
import type { Connection } from 'jsforce';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { setMarketingUser } from '../support/salesforce-marketing.ts';
import { sandboxOrgPerTest } from '../support/salesforce-org.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2025-03-20T12:00:00.000Z');

let sandbox: SalesforceSandbox;
let conn: Connection;
let clock = NOW;

type Row = Record<string, unknown>;

async function createLeads(count: number, make: (i: number) => Row): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 200) {
    const batch = Array.from({ length: Math.min(200, count - start) }, (_, k) => make(start + k));
    const results = await conn.sobject('Lead').create(batch, { allOrNone: true, headers: { 'Sforce-Auto-Assign': 'FALSE' } });
    ids.push(...results.map((r) => r.id ?? ''));
  }
  return ids;
}

async function names(soql: string): Promise<unknown[]> {
  return (await conn.query<Row>(soql)).records.map((r) => r.LastName);
}

// Registered first: the org is reset at NOW.
beforeEach(() => {
  clock = NOW;
});

sandboxOrgPerTest(
  (org) => {
    ({ sandbox, integration: conn } = org);
  },
  { now: () => clock, accessTokenTtlMs: 365 * DAY, apiVersion: '60.0' },
);

describe('paging', () => {
  it('pages with nextRecordsUrl and queryMore at the batch size Sforce-Query-Options asks for', async () => {
    await createLeads(450, (i) => ({ LastName: `L${String(i).padStart(3, '0')}`, Company: 'Acme' }));
    const soql = encodeURIComponent('SELECT Id, LastName FROM Lead ORDER BY LastName');
    const first = await conn.request<{ totalSize: number; done: boolean; nextRecordsUrl?: string; records: Row[] }>({
      method: 'GET',
      url: `/query?q=${soql}`,
      headers: { 'Sforce-Query-Options': 'batchSize=200' },
    });
    expect(first).toMatchObject({ totalSize: 450, done: false });
    expect(first.records).toHaveLength(200);
    expect(first.nextRecordsUrl).toMatch(/^\/services\/data\/v60\.0\/query\/01g[A-Za-z0-9]{15}-200$/);
    const second = await conn.queryMore<Row>(first.nextRecordsUrl ?? '');
    expect(second).toMatchObject({ totalSize: 450, done: false });
    const third = await conn.queryMore<Row>(second.nextRecordsUrl ?? '');
    expect(third.done).toBe(true);
    expect(third.nextRecordsUrl).toBeUndefined();
    expect([...first.records, ...second.records, ...third.records].map((r) => r.LastName)).toEqual(
      Array.from({ length: 450 }, (_, i) => `L${String(i).padStart(3, '0')}`),
    );
  });

  it('fetches every page with autoFetch (default batch of 2000)', async () => {
    await createLeads(2100, (i) => ({ LastName: `L${i}`, Company: 'Acme' }));
    const fetched: Row[] = [];
    const result = await conn
      .query<Row>('SELECT Id FROM Lead')
      .on('record', (r: Row) => fetched.push(r))
      .run({ autoFetch: true, maxFetch: 5000 });
    expect(result.totalSize).toBe(2100);
    expect(fetched).toHaveLength(2100);
    expect(sandbox.stats().calls['GET /services/data/:version/query/:locator']).toBe(1);
  });

  it('answers INVALID_QUERY_LOCATOR for an unknown locator', async () => {
    await expect(conn.queryMore('01gAAAAAAAAAAAAAAA-2000')).rejects.toMatchObject({ errorCode: 'INVALID_QUERY_LOCATOR' });
  });
});

describe('fields and relationships', () => {
  it('nests parent relationship fields with attributes, and null for an empty relationship', async () => {
    const [id] = await createLeads(1, () => ({ LastName: 'Lee', Company: 'Acme', Email: 'lee@acme.test' }));
    const result = await conn.query<Row>(
      `SELECT Id, Owner.Name, CreatedBy.Username, ConvertedContact.Email FROM Lead WHERE Id = '${(id ?? '').slice(0, 15)}'`,
    );
    expect(result.records).toEqual([
      {
        attributes: { type: 'Lead', url: `/services/data/v60.0/sobjects/Lead/${id}` },
        Id: id,
        Owner: {
          attributes: { type: 'User', url: `/services/data/v60.0/sobjects/User/${sandbox.integrationUserId}` },
          Name: 'Smarketing Integration',
        },
        CreatedBy: {
          attributes: { type: 'User', url: `/services/data/v60.0/sobjects/User/${sandbox.integrationUserId}` },
          Username: 'integration@sandbox.example.com',
        },
        ConvertedContact: null,
      },
    ]);
  });

  it('answers child subqueries and semi-joins', async () => {
    await setMarketingUser(sandbox, sandbox.integrationUserId);
    const [campaign] = await conn.sobject('Campaign').create([{ Name: 'Webinar', IsActive: true }]);
    const [a, , c] = await createLeads(3, (i) => ({ LastName: `L${i}`, Company: 'Acme' }));
    await conn.sobject('CampaignMember').create([
      { CampaignId: campaign?.id, LeadId: a, Status: 'Responded' },
      { CampaignId: campaign?.id, LeadId: c },
    ]);
    const members = await conn.query<Row>(
      "SELECT Name, (SELECT Status, HasResponded, Lead.LastName FROM CampaignMembers ORDER BY Status DESC) FROM Campaign WHERE Name = 'Webinar'",
    );
    const nested = members.records[0]?.CampaignMembers as { totalSize: number; records: Row[] };
    expect(nested.totalSize).toBe(2);
    expect(nested.records.map((r) => [r.Status, r.HasResponded, (r.Lead as Row).LastName])).toEqual([
      ['Sent', false, 'L2'],
      ['Responded', true, 'L0'],
    ]);
    expect(await names("SELECT LastName FROM Lead WHERE Id IN (SELECT LeadId FROM CampaignMember WHERE Status = 'Responded')")).toEqual([
      'L0',
    ]);
    expect(await names('SELECT LastName FROM Lead WHERE Id NOT IN (SELECT LeadId FROM CampaignMember) ORDER BY LastName')).toEqual(['L1']);
  });

  it('counts with COUNT() and aggregates without GROUP BY', async () => {
    await createLeads(5, (i) => ({ LastName: `L${i}`, Company: 'Acme', NumberOfEmployees: i * 10 }));
    const counted = await conn.query("SELECT COUNT() FROM Lead WHERE Company = 'acme'");
    expect(counted).toMatchObject({ totalSize: 5, done: true, records: [] });
    const agg = await conn.query<Row>('SELECT COUNT(Id) total, MAX(NumberOfEmployees) FROM Lead');
    expect(agg.records[0]).toMatchObject({ attributes: { type: 'AggregateResult' }, total: 5, expr0: 40 });
  });
});

describe('filters', () => {
  beforeEach(async () => {
    await createLeads(6, (i) => ({
      LastName: ['Ng', 'Ortiz', 'Park', 'Quinn', 'Roy', 'Sato'][i],
      Company: i % 2 === 0 ? 'Acme' : 'Globex',
      LeadSource: ['Web', 'Phone Inquiry', null, 'Web', 'Other', null][i],
      Email: i < 3 ? `p${i}@example_x.com` : null,
      AnnualRevenue: [100, 200, 300, 400, 500, null][i],
    }));
  });

  it.each([
    ["Company = 'ACME'", ['Ng', 'Park', 'Roy']],
    ["Company != 'Acme'", ['Ortiz', 'Quinn', 'Sato']],
    ['LeadSource = null', ['Park', 'Sato']],
    ["LeadSource IN ('Web', 'Other')", ['Ng', 'Quinn', 'Roy']],
    ["LeadSource NOT IN ('Web')", ['Ortiz', 'Park', 'Roy', 'Sato']],
    ["Email LIKE 'p_@example\\_x%'", ['Ng', 'Ortiz', 'Park']],
    ["LastName LIKE '%o%'", ['Ortiz', 'Roy', 'Sato']],
    ['AnnualRevenue >= 200 AND AnnualRevenue < 500', ['Ortiz', 'Park', 'Quinn']],
    ["(Company = 'Acme' OR LeadSource = 'Web') AND NOT LastName = 'Ng'", ['Park', 'Quinn', 'Roy']],
    ["NOT (Company = 'Acme') AND Email != null", ['Ortiz']],
  ])('filters with %s', async (where, expected) => {
    expect(await names(`SELECT LastName FROM Lead WHERE ${where} ORDER BY LastName`)).toEqual(expected);
  });

  it('orders by several keys with NULLS FIRST/LAST, then applies OFFSET and LIMIT', async () => {
    expect(await names('SELECT LastName FROM Lead ORDER BY LeadSource DESC NULLS FIRST, LastName ASC')).toEqual([
      'Park',
      'Sato',
      'Ng',
      'Quinn',
      'Ortiz',
      'Roy',
    ]);
    expect(await names('SELECT LastName FROM Lead ORDER BY AnnualRevenue ASC NULLS LAST LIMIT 2 OFFSET 3')).toEqual(['Quinn', 'Roy']);
    expect(await names('SELECT LastName FROM Lead ORDER BY AnnualRevenue')).toEqual(['Sato', 'Ng', 'Ortiz', 'Park', 'Quinn', 'Roy']);
  });
});

describe('date literals', () => {
  it('filters datetimes with LAST_N_DAYS, TODAY and datetime literals on the org clock', async () => {
    for (const [name, daysAgo] of [
      ['Today', 0],
      ['ThreeDays', 3],
      ['TenDays', 10],
      ['FortyDays', 40],
    ] as const) {
      clock = NOW - daysAgo * DAY;
      await createLeads(1, () => ({ LastName: name, Company: 'Acme' }));
    }
    clock = NOW;
    expect(await names('SELECT LastName FROM Lead WHERE CreatedDate = TODAY')).toEqual(['Today']);
    expect(await names('SELECT LastName FROM Lead WHERE CreatedDate = LAST_N_DAYS:7 ORDER BY CreatedDate')).toEqual(['ThreeDays', 'Today']);
    expect(await names('SELECT LastName FROM Lead WHERE CreatedDate < LAST_N_DAYS:30')).toEqual(['FortyDays']);
    expect(
      await names(
        'SELECT LastName FROM Lead WHERE CreatedDate > 2025-03-09T00:00:00Z AND CreatedDate < 2025-03-19T00:00:00.000+0000 ORDER BY CreatedDate',
      ),
    ).toEqual(['TenDays', 'ThreeDays']);
    expect(await names('SELECT LastName FROM Lead WHERE CreatedDate = THIS_MONTH ORDER BY CreatedDate')).toEqual([
      'TenDays',
      'ThreeDays',
      'Today',
    ]);
  });

  it('compares date fields with date literals', async () => {
    const [account] = await conn.sobject('Account').create([{ Name: 'Acme' }]);
    await conn.sobject('Opportunity').create([
      { Name: 'Soon', StageName: 'Prospecting', CloseDate: '2025-03-25', AccountId: account?.id },
      { Name: 'Later', StageName: 'Closed Won', CloseDate: '2025-06-30', AccountId: account?.id },
    ]);
    const soon = await conn.query<Row>('SELECT Name, IsWon, Probability FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:7');
    expect(soon.records.map((r) => [r.Name, r.IsWon, r.Probability])).toEqual([['Soon', false, 10]]);
    const won = await conn.query<Row>('SELECT Name FROM Opportunity WHERE CloseDate >= 2025-04-01 AND IsWon = true');
    expect(won.records.map((r) => r.Name)).toEqual(['Later']);
  });
});

describe('deleted records and errors', () => {
  it('includes deleted records only in queryAll', async () => {
    const [keep, gone] = await createLeads(2, (i) => ({ LastName: `L${i}`, Company: 'Acme' }));
    await conn.sobject('Lead').destroy(gone ?? '');
    expect((await conn.query<Row>('SELECT Id FROM Lead')).records.map((r) => r.Id)).toEqual([keep]);
    const all = await conn.query<Row>('SELECT Id, IsDeleted FROM Lead ORDER BY LastName').scanAll(true);
    expect(all.records.map((r) => [r.Id, r.IsDeleted])).toEqual([
      [keep, false],
      [gone, true],
    ]);
  });

  it.each([
    ['SELEC Id FROM Lead', 'MALFORMED_QUERY'],
    ['SELECT Company, COUNT(Id) FROM Lead GROUP BY Company', 'MALFORMED_QUERY'],
    ["SELECT Id FROM Lead WHERE Company = 'A' AND LastName = 'B' OR Email = null", 'MALFORMED_QUERY'],
    ['SELECT Id FROM Lead WHERE Company = :company', 'MALFORMED_QUERY'],
    ['SELECT Id, Id FROM Lead', 'MALFORMED_QUERY'],
    ['SELECT Id, Nope__c FROM Lead', 'INVALID_FIELD'],
    ['SELECT Id, Nobody.Name FROM Lead', 'INVALID_FIELD'],
    ['SELECT Id FROM Widget__c', 'INVALID_TYPE'],
    ["SELECT Id FROM Lead WHERE CreatedDate > '2025-01-01'", 'INVALID_QUERY_FILTER_OPERATOR'],
    ["SELECT Id FROM Lead WHERE OwnerId = 'not-an-id'", 'INVALID_QUERY_FILTER_OPERATOR'],
  ])('refuses %s with %s', async (soql, errorCode) => {
    await expect(conn.query(soql)).rejects.toMatchObject({ errorCode });
  });
});
