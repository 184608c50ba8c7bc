/**
 * The review digest on the settings page of the running app: a form with its problems shown inline,
 * the next send time once saved, and "Send now": audited, sent by the app's own worker through a
 * local SMTP server, shown as the last test, and no slot consumed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_REVIEW_DIGEST } from '../../src/domain/digest.ts';
import { fieldsOf } from '../../src/server/admin/settings-forms.ts';
import { latestDigest } from '../../src/store/digests.ts';
import { AdminClient, startAdminApp, type AdminApp } from '../support/admin-harness.ts';
import { FIXTURE_FIGURES, reviewFixture } from '../support/review-fixture.ts';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.ts';

describe('review digest settings', () => {
  let admin: AdminApp;
  let client: AdminClient;
  let installationId: string;
  let smtp: TestSmtpServer;
  const mails = () => smtp.received.map((received) => received.mail);

  beforeAll(async () => {
    smtp = await startSmtpServer();
    admin = await startAdminApp(smtp.env, { reviewSource: (id, period) => Promise.resolve(reviewFixture(id, period.id)) });
    installationId = (await admin.app.db.query<{ id: string }>("SELECT id FROM installations WHERE name = 'Sandbox'"))[0]?.id ?? '';
    client = new AdminClient(admin.url);
    await client.signIn(admin.adminToken);
  }, 90_000);

  afterAll(async () => {
    await admin?.close();
    await smtp.close();
  });

  const pageOf = () => `/admin/installations/${installationId}/settings?key=reviewDigest`;
  const form = (fields: Record<string, string>) => {
    const body = new URLSearchParams({
      _csrf: client.csrfToken,
      ...(fieldsOf('reviewDigest', DEFAULT_REVIEW_DIGEST) as Record<string, string>),
      ...fields,
      intent: 'save',
    }).toString();
    return client.request('POST', `/admin/installations/${installationId}/settings/reviewDigest`, {
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  };

  it('shows the form with each problem and keeps what was typed', async () => {
    const first = await client.page(pageOf());
    expect(first.status).toBe(200);
    expect(first.html).toContain('No digest scheduled.');
    const refused = await form({ enabled: 'yes', timeZone: 'Mars/Olympus', emailTo: 'sales team, lead@example.com' });
    expect(refused.status).toBe(422);
    const html = await refused.text();
    expect(html).toContain('timeZone: is not an IANA time zone (e.g. Europe/Paris)');
    expect(html).toContain('emailTo[0]: must be an email address');
    expect(html).toContain('value="sales team, lead@example.com"');
  });

  it('saves the digest and shows when the next one goes out', async () => {
    await client.page(pageOf());
    const saved = await form({
      enabled: 'yes',
      every: 'two_weeks',
      weekday: '3',
      hour: '9',
      timeZone: 'Europe/Paris',
      emailTo: 'lead@example.com',
      toAlertTarget: 'no',
    });
    expect(saved.status).toBe(303);
    const shown = await client.page(pageOf());
    expect(shown.html).toMatch(/Every <strong>two weeks<\/strong> on <strong>Wednesday<\/strong> at <strong>09:00<\/strong> Europe\/Paris/);
    expect(shown.html).toMatch(/Next digest \(\d{4}-W\d{2}\): <strong>Wed, \d+ \w{3} \d{4}, 09:00 \(Europe\/Paris\)<\/strong>/);
    const audit = await admin.app.db.query<{ action: string; summary: string }>(
      "SELECT action, summary FROM admin_audit WHERE installation_id = $1 AND action = 'settings_saved' ORDER BY id DESC LIMIT 1",
      [installationId],
    );
    expect(audit).toEqual([{ action: 'settings_saved', summary: 'Review digest saved' }]);
  });

  it('sends a test digest now through SMTP, audited, without consuming the slot', async () => {
    await client.page(pageOf());
    const sent = await client.form(`/admin/installations/${installationId}/review-digest/test`, {});
    expect(sent.status).toBe(303);
    expect(sent.headers.get('location')).toBe(
      `/admin/installations/${installationId}/settings?key=reviewDigest&notice=digest_test_queued#review-digest`,
    );
    await vi.waitFor(async () => expect((await latestDigest(admin.app.db, installationId, 'test'))?.completedAt).toBeInstanceOf(Date), {
      timeout: 15_000,
      interval: 100,
    });
    expect(await latestDigest(admin.app.db, installationId, 'test')).toMatchObject({
      email: { state: 'sent', to: ['lead@example.com'] },
      chat: { state: 'skipped' },
    });
    expect(mails()).toHaveLength(1);
    // The app's clock is the real one: the quarter is today's.
    expect(mails()[0]?.subject).toMatch(/^\[Test\] Pipeline review \d{4}-Q[1-4] — Sandbox$/);
    for (const figure of FIXTURE_FIGURES.email) expect(mails()[0]?.text).toContain(figure);
    expect(await latestDigest(admin.app.db, installationId, 'scheduled')).toBeNull();
    const audit = await admin.app.db.query<{ action: string }>(
      "SELECT action FROM admin_audit WHERE installation_id = $1 AND action = 'review_digest_test'",
      [installationId],
    );
    expect(audit).toHaveLength(1);
    const shown = await client.page(pageOf());
    expect(shown.html).toMatch(
      /<li data-digest-channel="email">email: <span class="badge ok">sent<\/span> [^<]+ <span class="small">to lead@example\.com<\/span>/,
    );
    expect(shown.html).toContain('<li data-digest-channel="chat">chat: <span class="badge muted">skipped</span>');
  });
});
