import { describe, expect, it } from 'vitest';
import { loadConfig, type AppConfig } from '../../src/config.ts';
import { previewReviewDigest, validateReviewDigest, DEFAULT_REVIEW_DIGEST } from '../../src/domain/digest.ts';
import { SETTINGS } from '../../src/server/admin/settings.ts';
import { fieldsOf, valueFromFields } from '../../src/server/admin/settings-forms.ts';

function configOf(env: Record<string, string>): AppConfig {
  const result = loadConfig(env);
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

describe('SMTP configuration', () => {
  it('has no email without SMTP_HOST', () => {
    expect(configOf({}).smtp).toBeUndefined();
  });

  it('reads host, port, TLS, login and sender, with STARTTLS on 587 by default and TLS on 465', () => {
    expect(
      configOf({
        SMTP_HOST: 'smtp.example.com',
        SMTP_USER: 'digest',
        SMTP_PASSWORD: 'p4ss-w0rd',
        SMTP_FROM: 'Pipeline review <review@example.com>',
      }).smtp,
    ).toEqual({
      host: 'smtp.example.com',
      port: 587,
      secure: false,
      auth: { user: 'digest', password: 'p4ss-w0rd' },
      from: 'Pipeline review <review@example.com>',
    });
    expect(configOf({ SMTP_HOST: 'smtp.example.com', SMTP_PORT: '465', SMTP_FROM: 'review@example.com' }).smtp).toMatchObject({
      port: 465,
      secure: true,
      auth: undefined,
    });
  });

  it('lists each SMTP problem without echoing the password', () => {
    const result = loadConfig({ SMTP_HOST: 'smtp.example.com', SMTP_PASSWORD: 'hunter2-secret', SMTP_FROM: 'not an address' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('SMTP_FROM: must be an address, or a name and <address>');
    expect(result.error).not.toContain('hunter2-secret');
    const missing = loadConfig({ SMTP_HOST: 'smtp.example.com', SMTP_PASSWORD: 'hunter2-secret' });
    expect(missing.ok ? '' : missing.error).toMatch(/SMTP_FROM: required with SMTP_HOST[\s\S]*SMTP_USER and SMTP_PASSWORD: set both/);
    expect(missing.ok ? '' : missing.error).not.toContain('hunter2-secret');
  });
});

describe('review digest setting', () => {
  const digest = {
    enabled: true,
    every: 'two_weeks',
    weekday: 5,
    hour: 16,
    timeZone: 'America/New_York',
    period: 'month',
    emailTo: ['a@example.com', 'b@example.com'],
    toAlertTarget: false,
  };

  it('reads its form back into the same setting', () => {
    const valid = validateReviewDigest(digest);
    if (!valid.ok) throw new Error(valid.error.join('; '));
    const read = valueFromFields('reviewDigest', fieldsOf('reviewDigest', valid.value));
    expect(SETTINGS.reviewDigest.validate(read.value)).toEqual(valid);
  });

  it('names each address typed in the form that is not one', () => {
    const fields = {
      ...fieldsOf('reviewDigest', DEFAULT_REVIEW_DIGEST),
      enabled: 'yes',
      emailTo: 'a@example.com; sales team, b@example.com',
    };
    expect(SETTINGS.reviewDigest.validate(valueFromFields('reviewDigest', fields).value)).toEqual({
      ok: false,
      error: ['emailTo[1]: must be an email address'],
    });
  });

  it('refuses email recipients when the deployment has no SMTP server, and accepts them with one', () => {
    const check = (value: unknown, config: AppConfig) => SETTINGS.reviewDigest.deploymentCheck?.(value, config);
    expect(check?.(digest, configOf({}))).toEqual([
      'emailTo: email is not configured on this deployment (the operator sets SMTP_HOST and SMTP_FROM): remove the recipients or send to the alert target only',
    ]);
    expect(check?.({ ...digest, emailTo: [], toAlertTarget: true }, configOf({}))).toEqual([]);
    expect(check?.(digest, configOf({ SMTP_HOST: 'smtp.example.com', SMTP_FROM: 'review@example.com' }))).toEqual([]);
  });

  it('previews when the next digest would go out and where', () => {
    const next = validateReviewDigest({ ...digest, every: 'week', emailTo: ['a@example.com'], toAlertTarget: true });
    if (!next.ok) throw new Error(next.error.join('; '));
    // Friday 4 December 2026, 16:00 in New York (EST, UTC-5).
    expect(previewReviewDigest(DEFAULT_REVIEW_DIGEST, next.value, new Date('2026-12-01T00:00:00Z')).lines).toEqual([
      {
        level: 'info',
        count: 1,
        text: 'The next digest (2026-W49, the review of 2026-12) would go out Fri, 4 Dec 2026, 16:00 (America/New_York) to 1 email recipient and the alert target',
      },
    ]);
  });
});
