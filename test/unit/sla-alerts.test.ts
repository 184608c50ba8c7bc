import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ALERT_SECRET, BREACHED_CLOCK, escalationOf } from '../support/sla-fixtures.ts';
import { AlertTargetSchema, buildBreachAlert, signAlertBody, verifyAlertSignature } from '../../src/sync/alerts.ts';
import { slaJobId } from '../../src/sync/sla-scheduler.ts';

const SECRET = ALERT_SECRET;
const target = { url: 'https://chat.example.com/hooks/T0/B0/xyz', secret: SECRET };
const clock = BREACHED_CLOCK;
const escalation = escalationOf('https://acme.my.salesforce.com/lightning/r/Lead/00Q000000000001AAA/view');

describe('alert signatures', () => {
  it('signs the body with HMAC-SHA256 of the exact bytes', () => {
    const body = '{"event":"sla.breached"}';
    expect(signAlertBody(body, SECRET)).toBe(`sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
  });

  it('verifies a signature made with the same secret over the same bytes', () => {
    const body = Buffer.from('{"a":1}');
    expect(verifyAlertSignature(body, SECRET, signAlertBody(body, SECRET))).toBe(true);
  });

  it.each<[string, string, string | undefined]>([
    ['a changed body', '{"a":2}', signAlertBody('{"a":1}', SECRET)],
    ['another secret', '{"a":1}', signAlertBody('{"a":1}', 'another-secret-of-some-length')],
    ['a missing signature', '{"a":1}', undefined],
    ['a truncated signature', '{"a":1}', signAlertBody('{"a":1}', SECRET).slice(0, 20)],
  ])('refuses %s', (_name, body, signature) => {
    expect(verifyAlertSignature(body, SECRET, signature)).toBe(false);
  });
});

describe('alert target settings', () => {
  it('accepts an https URL with a secret of 16 characters or more', () => {
    expect(AlertTargetSchema.safeParse(target).success).toBe(true);
  });

  it.each([
    ['a non-http URL', { url: 'ftp://example.com/hook', secret: SECRET }],
    ['a short secret', { url: target.url, secret: 'short' }],
    ['an unknown key', { ...target, channel: '#sales' }],
  ])('refuses %s', (_name, input) => {
    expect(AlertTargetSchema.safeParse(input).success).toBe(false);
  });
});

describe('buildBreachAlert', () => {
  it('describes the breach for a chat channel and for machines, the same way every time', () => {
    const alert = buildBreachAlert(escalation, clock);
    expect(alert).toEqual({
      event: 'sla.breached',
      deliveryId: 'sla-escalation-3',
      installationId: 'inst-1',
      text: 'SLA breached: Ada Lovelace was handed to sales at 2026-03-02T09:00:00.000Z and had no first touch by 2026-03-02T13:00:00.000Z (owner Alex Rivera). https://acme.my.salesforce.com/lightning/r/Lead/00Q000000000001AAA/view',
      lead: {
        id: '00Q000000000001AAA',
        name: 'Ada Lovelace',
        url: 'https://acme.my.salesforce.com/lightning/r/Lead/00Q000000000001AAA/view',
      },
      hubspotContactId: '101',
      owner: { id: '005000000000004AAA', name: 'Alex Rivera' },
      manager: { name: 'Morgan Lee' },
      team: 'Sales',
      channel: 'Paid Search',
      campaign: 'Spring',
      handoffAt: '2026-03-02T09:00:00.000Z',
      dueAt: '2026-03-02T13:00:00.000Z',
      breachedAt: '2026-03-02T13:00:01.000Z',
      salesforceTaskIds: ['00T1', '00T2'],
    });
    expect(JSON.stringify(buildBreachAlert(escalation, clock))).toBe(JSON.stringify(alert));
  });
});

describe('slaJobId', () => {
  it('names a clock schedule without the colon BullMQ job ids may not carry', () => {
    expect(slaJobId('6f1c0e7a-1111-4a4a-9b9b-000000000001', '00Q000000000001AAA', 2)).toBe(
      'sla-6f1c0e7a-1111-4a4a-9b9b-000000000001-00Q000000000001AAA-2',
    );
  });
});
