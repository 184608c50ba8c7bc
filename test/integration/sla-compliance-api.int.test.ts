/**
 * The sales SLA compliance and violations routes (`GET /api/installations/{id}/sla/compliance`,
 * `…/sla/violations`) and the admin page, read by an invited viewer: figures from clock rows with
 * known times, bad query input answered 400 with the problem, another installation 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertInstallation } from '../../src/store/installations.ts';
import {
  insertSlaClocks,
  recordCadence,
  recordDisposition,
  setFollowUpRules,
  stopSlaClock,
  type NewSlaClock,
} from '../../src/store/sla.ts';
import { AdminClient, startAdminApp, type AdminApp } from '../support/admin-harness.ts';

const ADMIN_TOKEN = 'admin-token-for-the-sla-compliance-test-0123456789';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (hours: number): Date => new Date(Date.UTC(2026, 10, 2, 9) + hours * HOUR);
const NOW = at(30 * 24);

describe('sales SLA compliance API', () => {
  let admin: AdminApp;
  let own: string;
  let other: string;
  let viewer: AdminClient;

  beforeAll(async () => {
    admin = await startAdminApp({ ADMIN_TOKEN }, { sandboxes: false, adminClock: () => NOW.getTime() });
    own = (await admin.app.db.query<{ id: string }>('SELECT id FROM installations LIMIT 1'))[0]?.id ?? '';
    other = (await upsertInstallation(admin.app.db, { name: 'Other company', hubspotPortalId: '7000007', salesforceOrgId: null })).id;
    await admin.app.db.query('UPDATE installations SET settings = $2::jsonb WHERE id = $1', [
      own,
      JSON.stringify({ slaPolicy: { hours: 4, cadence: { touches: 3, days: 7 }, disposition: { days: 10 } } }),
    ]);

    const clock = (lead: string, owner: string, team: string): NewSlaClock => ({
      installationId: own,
      leadId: lead,
      contactId: `c-${lead}`,
      handoffAt: at(0),
      dueAt: at(4),
      ownerId: `005${owner}`,
      ownerName: owner,
      managerId: null,
      team,
      leadSource: null,
      channel: 'Email',
      campaign: null,
    });
    const started = await insertSlaClocks(admin.app.db, [
      clock('00QA1', 'Ada Rep', 'Inbound'),
      clock('00QA2', 'Ada Rep', 'Inbound'),
      clock('00QB1', 'Bob Rep', 'Outbound'),
    ]);
    const id = (lead: string): number => started.find((c) => c.leadId === lead)?.id ?? 0;
    for (const c of started)
      await setFollowUpRules(admin.app.db, c.id, {
        cadence: { required: 3, dueAt: new Date(at(0).getTime() + 7 * DAY) },
        dispositionDueAt: new Date(at(0).getTime() + 10 * DAY),
      });
    // Ada's first Lead: touched in time, 3 touches (met), accepted in time. Her second: never
    // touched (first touch and untouched broken), 0 touches (missed), no disposition (missed).
    // Bob's: touched late, 1 touch (missed), rejected with a reason in time (met).
    await stopSlaClock(admin.app.db, id('00QA1'), { at: at(1), source: 'Task', status: 'met' });
    await recordCadence(admin.app.db, id('00QA1'), 3, 'met');
    await recordDisposition(admin.app.db, id('00QA1'), { outcome: 'accepted', at: at(2), status: 'met' });
    await recordCadence(admin.app.db, id('00QA2'), 0, 'missed');
    await recordDisposition(admin.app.db, id('00QA2'), { outcome: null, at: null, status: 'missed' });
    await stopSlaClock(admin.app.db, id('00QB1'), { at: at(6), source: 'status', status: 'breached' });
    await recordCadence(admin.app.db, id('00QB1'), 1, 'missed');
    await recordDisposition(admin.app.db, id('00QB1'), { outcome: 'rejected', at: at(30), status: 'met' });

    const operator = new AdminClient(admin.url);
    await operator.signIn(ADMIN_TOKEN);
    const invitation = await operator.api('POST', `/api/installations/${own}/invitations`, { name: 'Vera Viewer', role: 'viewer' });
    expect(invitation.status).toBe(201);
    viewer = new AdminClient(admin.url);
    expect((await viewer.request('POST', new URL(invitation.json.url as string).pathname)).status).toBe(303);
  }, 60_000);

  afterAll(async () => {
    await admin?.close();
  });

  const period = 'from=2026-11-01&to=2026-12-01';

  it("gives a viewer each rule's figures per rep and in total", async () => {
    const answer = await viewer.api('GET', `/api/installations/${own}/sla/compliance?${period}`);
    expect(answer.status).toBe(200);
    const { sales } = answer.json as {
      sales: {
        handedOff: number;
        rules: { rule: string; kept: number; broken: number; pending: number; enabled: boolean }[];
        byRep: { key: string; handedOff: number; rules: { rule: string; kept: number; broken: number }[] }[];
      };
    };
    expect(sales.handedOff).toBe(3);
    const total = Object.fromEntries(sales.rules.map((r) => [r.rule, [r.enabled, r.kept, r.broken, r.pending]]));
    expect(total).toEqual({
      first_touch: [true, 1, 2, 0],
      cadence: [true, 1, 2, 0],
      disposition: [true, 2, 1, 0],
      untouched: [true, 2, 1, 0],
    });
    expect(sales.byRep.map((row) => [row.key, row.handedOff, row.rules.find((r) => r.rule === 'cadence')?.broken])).toEqual([
      ['Ada Rep', 2, 1],
      ['Bob Rep', 1, 1],
    ]);

    const byTeam = await viewer.api('GET', `/api/installations/${own}/sla/compliance?${period}&groupBy=team`);
    expect((byTeam.json.sales.byRep as { key: string }[]).map((row) => row.key)).toEqual(['Inbound', 'Outbound']);
  });

  it('lists the leads that broke a rule in one group, with the HubSpot link', async () => {
    const answer = await viewer.api(
      'GET',
      `/api/installations/${own}/sla/violations?${period}&rule=cadence&groupBy=owner&group=${encodeURIComponent('Ada Rep')}`,
    );
    expect(answer.status).toBe(200);
    expect(answer.json.violations).toEqual([
      expect.objectContaining({
        leadId: '00QA2',
        owner: 'Ada Rep',
        touches: 0,
        touchesRequired: 3,
        hubspotUrl: 'https://app.hubspot.com/contacts/1000001/record/0-1/c-00QA2',
      }),
    ]);
    const untouched = await viewer.api('GET', `/api/installations/${own}/sla/violations?${period}&rule=untouched`);
    expect((untouched.json.violations as { leadId: string }[]).map((v) => v.leadId)).toEqual(['00QA2']);
  });

  it('answers bad query input with 400 and the problem, and another installation with 404', async () => {
    const badGroup = await viewer.api('GET', `/api/installations/${own}/sla/compliance?groupBy=region`);
    expect(badGroup.status).toBe(400);
    expect(badGroup.json.issues[0]).toMatch(/^query\.groupBy: /);
    const backwards = await viewer.api('GET', `/api/installations/${own}/sla/compliance?from=2026-12-01&to=2026-11-01`);
    expect(backwards.status).toBe(400);
    expect(backwards.json.issues).toEqual(['query.to: from must be before to']);
    const noRule = await viewer.api('GET', `/api/installations/${own}/sla/violations?${period}`);
    expect(noRule.status).toBe(400);
    expect(noRule.json.issues[0]).toMatch(/^query\.rule: /);
    const unknown = await viewer.api('GET', `/api/installations/${own}/sla/violations?${period}&rule=cadence&extra=1`);
    expect(unknown.status).toBe(400);
    expect((await viewer.api('GET', `/api/installations/${other}/sla/compliance`)).status).toBe(404);
  });

  it('shows the compliance page with each broken count linking to those leads', async () => {
    const page = await viewer.page(`/admin/installations/${own}/sla?${period}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Ada Rep');
    const list = await viewer.page(
      `/admin/installations/${own}/sla?${period}&groupBy=owner&rule=disposition&group=${encodeURIComponent('Ada Rep')}`,
    );
    expect(list.status).toBe(200);
    expect(list.html).toContain('data-lead="00QA2"');
    expect(list.html).not.toContain('data-lead="00QA1"');
    expect((await viewer.page(`/admin/installations/${own}/sla?rule=sometimes`)).status).toBe(400);
  });
});
