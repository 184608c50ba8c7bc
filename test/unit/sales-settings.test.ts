import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEEDBACK_TAXONOMY } from '../../src/domain/feedback.ts';
import { DEFAULT_SLA_POLICY } from '../../src/domain/sla.ts';
import { createLogger } from '../../src/log.ts';
import { readSalesSettings } from '../../src/runtime/sales-settings.ts';

function capture(): { log: ReturnType<typeof createLogger>; lines: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: createLogger('warn', stream), lines: () => chunks.join('') };
}

describe('readSalesSettings', () => {
  it('takes the defaults when nothing is set: the standard taxonomy, 4 calendar hours, no alert', () => {
    const { log, lines } = capture();
    expect(readSalesSettings({}, log, 'inst-1')).toEqual({
      feedbackTaxonomy: DEFAULT_FEEDBACK_TAXONOMY,
      slaPolicy: DEFAULT_SLA_POLICY,
      alert: null,
      alertProblem: null,
    });
    expect(lines()).toBe('');
  });

  it('reads an admin policy with business hours and team overrides, a taxonomy and an alert target', () => {
    const { log } = capture();
    const settings = readSalesSettings(
      {
        slaPolicy: { hours: 2, businessHours: { timeZone: 'Europe/Berlin' }, overrides: [{ team: 'Enterprise', hours: 8 }] },
        feedbackTaxonomy: { fallbackCode: 'no_need' },
        alert: { url: 'https://chat.example.com/hook', secret: 'sixteen-chars-ok' },
      },
      log,
      'inst-1',
    );
    expect(settings.slaPolicy).toMatchObject({
      hours: 2,
      businessHours: { timeZone: 'Europe/Berlin', start: '09:00', end: '17:00' },
      overrides: [{ team: 'Enterprise', hours: 8 }],
    });
    expect(settings.feedbackTaxonomy.fallbackCode).toBe('no_need');
    expect(settings.alert).toEqual({ url: 'https://chat.example.com/hook', secret: 'sixteen-chars-ok' });
  });

  it('keeps the defaults for invalid settings and says what is wrong without printing the secret', () => {
    const { log, lines } = capture();
    const settings = readSalesSettings(
      {
        slaPolicy: { hours: 0 },
        feedbackTaxonomy: { fallbackCode: 'nope' },
        alert: { url: 'https://chat.example.com/hook', secret: 'tiny-secret' },
      },
      log,
      'inst-1',
    );
    expect(settings).toEqual({
      feedbackTaxonomy: DEFAULT_FEEDBACK_TAXONOMY,
      slaPolicy: DEFAULT_SLA_POLICY,
      alert: null,
      alertProblem: null,
    });
    const output = lines();
    expect(output).toContain('slaPolicy');
    expect(output).toContain('feedbackTaxonomy');
    expect(output).toContain('secret: must be at least 16 characters');
    expect(output).not.toContain('tiny-secret');
  });
});
