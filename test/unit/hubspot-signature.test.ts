import { createHmac } from 'node:crypto';
import { Signature } from '@hubspot/api-client';
import { describe, expect, it } from 'vitest';
import { signV3, verifyHubSpotSignature, SIGNATURE_WINDOW_MS } from '../../webhooks/hubspot/verify.ts';

const secret = 'sandbox-hubspot-secret';
const uri = 'https://sync.example.com/webhooks/hubspot';
const body = Buffer.from(
  '[{"eventId":1,"subscriptionId":2,"portalId":1000001,"occurredAt":1764000000000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":101}]',
);
const now = 1_764_000_000_000;

function signed(overrides: { timestamp?: number; secret?: string; uri?: string; body?: Buffer; method?: string } = {}) {
  const timestamp = String(overrides.timestamp ?? now);
  return {
    method: 'POST',
    uri,
    rawBody: body,
    headers: {
      'x-hubspot-signature-v3': signV3(
        overrides.secret ?? secret,
        overrides.method ?? 'POST',
        overrides.uri ?? uri,
        overrides.body ?? body,
        timestamp,
      ),
      'x-hubspot-request-timestamp': timestamp,
    } as Record<string, string | undefined>,
  };
}

describe('HubSpot signature v3', () => {
  it('computes the same signature as the official client', () => {
    const timestamp = String(now);
    const ours = signV3(secret, 'POST', uri, body, timestamp);
    const theirs = Signature.getSignature('POST', 'v3', {
      signature: '',
      clientSecret: secret,
      requestBody: body.toString(),
      url: uri,
      timestamp: now,
    });
    expect(ours).toBe(theirs);
    expect(ours).toBe(createHmac('sha256', secret).update(`POST${uri}${body.toString()}${timestamp}`).digest('base64'));
  });

  it('accepts a valid signature', () => {
    expect(verifyHubSpotSignature(signed(), secret, now)).toEqual({ ok: true });
  });

  it('refuses a signature made with another secret', () => {
    expect(verifyHubSpotSignature(signed({ secret: 'someone-else' }), secret, now)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a tampered body', () => {
    const request = { ...signed(), rawBody: Buffer.from(body.toString().replace('101', '102')) };
    expect(verifyHubSpotSignature(request, secret, now)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a tampered URI', () => {
    const request = { ...signed(), uri: 'https://evil.example.com/webhooks/hubspot' };
    expect(verifyHubSpotSignature(request, secret, now)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a signature made for another method', () => {
    expect(verifyHubSpotSignature(signed({ method: 'PUT' }), secret, now)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['accepts a timestamp exactly five minutes old', now - SIGNATURE_WINDOW_MS, true, undefined],
    ['refuses a signature older than five minutes', now - SIGNATURE_WINDOW_MS - 1, false, 'stale_timestamp'],
    ['accepts a timestamp exactly five minutes ahead', now + SIGNATURE_WINDOW_MS, true, undefined],
    ['refuses a timestamp more than five minutes ahead', now + SIGNATURE_WINDOW_MS + 1, false, 'future_timestamp'],
  ])('%s', (_name, timestamp, ok, reason) => {
    const result = verifyHubSpotSignature(signed({ timestamp }), secret, now);
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.reason).toBe(reason);
  });

  it('refuses a request with no signature headers', () => {
    expect(verifyHubSpotSignature({ method: 'POST', uri, rawBody: body, headers: {} }, secret, now)).toMatchObject({
      ok: false,
      reason: 'missing_signature',
    });
  });

  it('refuses a request with a signature but no timestamp', () => {
    const request = signed();
    delete request.headers['x-hubspot-request-timestamp'];
    expect(verifyHubSpotSignature(request, secret, now)).toMatchObject({ ok: false, reason: 'missing_signature' });
  });

  it('refuses a non-numeric timestamp', () => {
    const request = signed();
    request.headers['x-hubspot-request-timestamp'] = 'yesterday';
    expect(verifyHubSpotSignature(request, secret, now)).toMatchObject({ ok: false, reason: 'malformed_timestamp' });
  });

  it('refuses v1 and v2 signatures with a clear message', () => {
    const v1 = Signature.getSignature('POST', 'v1', { signature: '', clientSecret: secret, requestBody: body.toString() });
    const result = verifyHubSpotSignature(
      { method: 'POST', uri, rawBody: body, headers: { 'x-hubspot-signature': v1, 'x-hubspot-signature-version': 'v1' } },
      secret,
      now,
    );
    expect(result).toMatchObject({ ok: false, reason: 'unsupported_signature_version' });
    if (!result.ok) expect(result.message).toContain('only X-HubSpot-Signature-v3');
    const v2 = verifyHubSpotSignature(
      { method: 'POST', uri, rawBody: body, headers: { 'x-hubspot-signature': 'abc', 'x-hubspot-signature-version': 'v2' } },
      secret,
      now,
    );
    expect(v2).toMatchObject({ ok: false, reason: 'unsupported_signature_version' });
  });

  it('decodes the escapes HubSpot decodes before signing', () => {
    const encoded = 'https://sync.example.com/webhooks/hubspot?next=%2Fdone%3Fa%3A1';
    const decoded = 'https://sync.example.com/webhooks/hubspot?next=/done?a:1';
    const timestamp = String(now);
    const signature = createHmac('sha256', secret).update(`POST${decoded}${body.toString()}${timestamp}`).digest('base64');
    const result = verifyHubSpotSignature(
      {
        method: 'POST',
        uri: encoded,
        rawBody: body,
        headers: { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp },
      },
      secret,
      now,
    );
    expect(result).toEqual({ ok: true });
  });
});
