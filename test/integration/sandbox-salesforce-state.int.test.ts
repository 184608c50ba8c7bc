/** Persistence, reset and the `/__sandbox` controls of the sandbox Salesforce org. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jsforce, { type Connection } from 'jsforce';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { grantFieldAccess } from '../support/salesforce-access.ts';
import { SANDBOX_ORG, loginAsIntegration } from '../support/salesforce-org.ts';

const ORG = SANDBOX_ORG;

let dir: string;
const running: SalesforceSandbox[] = [];

async function start(stateFile?: string): Promise<SalesforceSandbox> {
  const sandbox = await startSalesforceSandbox({ port: 0, ...ORG, ...(stateFile ? { stateFile } : {}) });
  running.push(sandbox);
  return sandbox;
}

const login = (sandbox: SalesforceSandbox): Promise<Connection> => loginAsIntegration(sandbox, '60.0');

async function post(url: string, body?: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sf-sandbox-'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('state', () => {
  it('keeps records, custom fields, rules and tokens across a restart with a state file', async () => {
    const stateFile = path.join(dir, 'restart', 'salesforce.json');
    const first = await start(stateFile);
    const conn = await login(first);
    await conn.tooling
      .sobject('CustomField')
      .create({ FullName: 'Lead.Lifecycle_Stage__c', Metadata: { type: 'Text', label: 'Lifecycle Stage', length: 40 } });
    await grantFieldAccess(conn, ['Lead.Lifecycle_Stage__c']);
    const lead = await conn.sobject('Lead').create({ LastName: 'Lee', Company: 'Acme', Lifecycle_Stage__c: 'MQL' });
    first.outbound.addRule({ object: 'Lead', fields: ['Status'], endpointUrl: 'http://127.0.0.1:9/outbound', active: false });
    await first.close();
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({ version: 1 });

    const second = await start(stateFile);
    // Same port is not guaranteed, so point the old session at the new instance.
    const resumed = new jsforce.Connection({ instanceUrl: second.url, accessToken: conn.accessToken ?? '', version: '60.0' });
    expect(await resumed.sobject('Lead').retrieve(lead.id ?? '')).toMatchObject({ LastName: 'Lee', Lifecycle_Stage__c: 'MQL' });
    expect(second.outbound.rules()).toHaveLength(1);
    const next = await resumed.sobject('Lead').create({ LastName: 'Kim', Company: 'Acme' });
    expect(next.id).not.toBe(lead.id);
  });

  it('resets to a fresh org over /__sandbox/reset while issued tokens stay valid', async () => {
    const sandbox = await start();
    const conn = await login(sandbox);
    await conn.tooling
      .sobject('CustomField')
      .create({ FullName: 'Lead.SLA_Status__c', Metadata: { type: 'Text', label: 'SLA Status', length: 20 } });
    await conn.sobject('Lead').create({ LastName: 'Lee', Company: 'Acme' });
    expect((await post(`${sandbox.url}/__sandbox/reset`)).status).toBe(204);
    expect(await conn.sobject('Lead').count()).toBe(0);
    expect((await conn.describe('Lead')).fields.some((f) => f.name === 'SLA_Status__c')).toBe(false);
    expect(await conn.sobject('User').count()).toBe(7);
  });
});

describe('/__sandbox controls', () => {
  it('counts calls per endpoint and reports API usage', async () => {
    const sandbox = await start();
    const conn = await login(sandbox);
    await conn.sobject('Lead').create({ LastName: 'Lee', Company: 'Acme' });
    await conn.sobject('Lead').create([{ LastName: 'Kim', Company: 'Acme' }]);
    await conn.query('SELECT Id FROM Lead');
    const stats = (await (await fetch(`${sandbox.url}/__sandbox/stats`)).json()) as {
      calls: Record<string, number>;
      apiUsage: { used: number; limit: number };
    };
    expect(stats.calls).toMatchObject({
      'POST /services/oauth2/token': 1,
      'POST /services/data/:version/sobjects/Lead': 1,
      'POST /services/data/:version/composite/sobjects': 1,
      'GET /services/data/:version/query': 1,
    });
    expect(stats.apiUsage).toMatchObject({ used: 3, limit: 15_000 });
  });

  it('lists users and issues a sales rep token that acts as that rep', async () => {
    const sandbox = await start();
    const users = (await (await fetch(`${sandbox.url}/__sandbox/users`)).json()) as Array<{
      id: string;
      role: string;
      isActive: boolean;
      managerId: string | null;
    }>;
    const reps = users.filter((u) => u.role === 'sales-rep');
    expect(reps.length).toBeGreaterThanOrEqual(3);
    expect(reps.some((r) => !r.isActive)).toBe(true);
    expect(reps.every((r) => r.managerId !== null)).toBe(true);
    const rep = reps.find((r) => r.isActive);
    const token = (await (await post(`${sandbox.url}/__sandbox/users/${rep?.id ?? ''}/token`)).json()) as {
      access_token: string;
      id: string;
    };
    expect(token.id).toBe(`${sandbox.url}/id/${ORG.orgId}/${rep?.id ?? ''}`);
    const inactive = reps.find((r) => !r.isActive);
    expect((await post(`${sandbox.url}/__sandbox/users/${inactive?.id ?? ''}/token`)).status).toBe(400);
  });

  it('validates the fault configuration and refuses unknown keys', async () => {
    const sandbox = await start();
    const bad = await post(`${sandbox.url}/__sandbox/faults`, { endpoints: [{ path: '/services/*', error: 'KABOOM', count: 1 }] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('INVALID_INPUT');
    expect((await post(`${sandbox.url}/__sandbox/faults`, { surprise: true })).status).toBe(400);
    const good = await post(`${sandbox.url}/__sandbox/faults`, { seed: 42, outbound: { drop: { probability: 0.5 } } });
    expect(await good.json()).toMatchObject({ seed: 42, endpoints: [], outbound: { drop: { probability: 0.5 } } });
  });

  it('switches round-robin assignment to chosen users', async () => {
    const sandbox = await start();
    const conn = await login(sandbox);
    const only = sandbox.salesRepIds[2] ?? '';
    const answer = await post(`${sandbox.url}/__sandbox/assignment`, { active: true, userIds: [only] });
    expect(await answer.json()).toEqual({ active: true, userIds: [only] });
    const created = await conn.sobject('Lead').create([
      { LastName: 'A', Company: 'X' },
      { LastName: 'B', Company: 'X' },
    ]);
    const owners: Array<Record<string, unknown>> = await conn.retrieve(
      'Lead',
      created.map((r) => r.id ?? ''),
      { fields: ['OwnerId'] },
    );
    expect(owners.map((r) => r.OwnerId)).toEqual([only, only]);
  });
});
