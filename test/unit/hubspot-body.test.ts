import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hubspotJobId } from '../../webhooks/hubspot/receiver.ts';
import { isHandledSubscription, parseHubSpotBody } from '../../webhooks/hubspot/schema.ts';

// Fixtures: test/fixtures/hubspot-webhook-jsonschema — Snowplow's JSON schemas for HubSpot webhook
// events (snowplow/iglu-central, see test/fixtures/SOURCE.txt). They list each event type's
// fields; Snowplow re-emits occurredAt as a date-time string, HubSpot sends epoch milliseconds.
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/hubspot-webhook-jsonschema');
const TYPE_BY_FILE: Record<string, string> = { change: 'propertyChange', creation: 'creation', deletion: 'deletion' };

/** A raw HubSpot event with every field the reference schema lists. */
function eventFromSchema(file: string, occurredAt: number | string): Record<string, unknown> {
  const schema = JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as { properties: Record<string, { type: string }> };
  const [object, kind] = file.split('.')[0]?.split('_') ?? [];
  const event: Record<string, unknown> = { subscriptionType: `${object}.${TYPE_BY_FILE[kind ?? ''] ?? kind}` };
  for (const [field, spec] of Object.entries(schema.properties)) {
    event[field] =
      field === 'occurredAt' ? occurredAt : spec.type === 'integer' ? 2147483000 : field === 'propertyName' ? 'lifecyclestage' : 'CRM_UI';
  }
  return event;
}

describe('HubSpot delivery body', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));

  it.each(files)('accepts an event with every field listed in %s', (file) => {
    const event = eventFromSchema(file, 1_764_000_000_000);
    const result = parseHubSpotBody(Buffer.from(JSON.stringify([event])));
    expect(result.ok, result.ok ? '' : result.message).toBe(true);
    if (!result.ok) return;
    const parsed = result.events[0] as Record<string, unknown>;
    for (const field of Object.keys(event)) expect(parsed[field], field).toBeDefined();
    expect(isHandledSubscription(parsed.subscriptionType as string)).toBe(true);
  });

  it.each(files)('refuses the re-emitted form of %s whose occurredAt is a date string', (file) => {
    const event = eventFromSchema(file, '2026-11-23T10:00:00Z');
    expect(parseHubSpotBody(Buffer.from(JSON.stringify([event])))).toMatchObject({ ok: false });
  });

  it('keeps ids beyond 2^53 exact', () => {
    const raw =
      '[{"eventId":98765432109876543210,"subscriptionId":2,"portalId":1000001,"occurredAt":1764000000000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":12345678901234567890}]';
    const result = parseHubSpotBody(Buffer.from(raw));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.events[0]?.objectId).toBe('12345678901234567890');
    expect(result.events[0]?.eventId).toBe('98765432109876543210');
  });

  it.each([
    ['a JSON object', '{"eventId":1}', 'must be a JSON array'],
    ['not JSON', 'hello', 'not valid JSON'],
    ['an empty array', '[]', 'no events'],
    [
      'an event without objectId',
      '[{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":4,"subscriptionType":"contact.creation","attemptNumber":0}]',
      'objectId',
    ],
    [
      'seconds instead of an integer timestamp',
      '[{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":1.5,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":5}]',
      'occurredAt',
    ],
  ])('refuses %s', (_name, raw, message) => {
    const result = parseHubSpotBody(Buffer.from(raw));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(message);
  });

  it('refuses more than 100 events', () => {
    const event = {
      eventId: 1,
      subscriptionId: 2,
      portalId: 3,
      occurredAt: 4,
      subscriptionType: 'contact.creation',
      attemptNumber: 0,
      objectId: 5,
    };
    const result = parseHubSpotBody(Buffer.from(JSON.stringify(Array.from({ length: 101 }, () => event))));
    expect(result).toMatchObject({ ok: false });
  });

  it('accepts unknown subscription types and marks them as not handled', () => {
    const raw =
      '[{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":4,"subscriptionType":"conversation.newMessage","attemptNumber":0,"objectId":5}]';
    const result = parseHubSpotBody(Buffer.from(raw));
    expect(result.ok).toBe(true);
    expect(isHandledSubscription('conversation.newMessage')).toBe(false);
    expect(isHandledSubscription('contact.propertyChange')).toBe(true);
  });

  it('gives the same job id to a redelivery and different ids to different changes', () => {
    const base = {
      eventId: '1',
      subscriptionId: '2',
      portalId: '3',
      occurredAt: 4,
      subscriptionType: 'contact.propertyChange',
      attemptNumber: 0,
      objectId: '5',
      propertyName: 'lifecyclestage',
      propertyValue: 'lead',
    };
    const id = (event: typeof base) => hubspotJobId('inst-1', event);
    expect(id({ ...base, attemptNumber: 3, eventId: '999' })).toBe(id(base));
    expect(id({ ...base, propertyValue: 'marketingqualifiedlead' })).not.toBe(id(base));
    expect(id({ ...base, occurredAt: 5 })).not.toBe(id(base));
    expect(id({ ...base, portalId: '4' })).not.toBe(id(base));
    expect(id(base)).not.toContain(':');
  });

  it('gives the same event of two installations two job ids', () => {
    const event = {
      eventId: '1',
      subscriptionId: '2',
      portalId: '3',
      occurredAt: 4,
      subscriptionType: 'contact.creation',
      attemptNumber: 0,
      objectId: '5',
    };
    expect(hubspotJobId('inst-1', event)).not.toBe(hubspotJobId('inst-2', event));
  });
});
