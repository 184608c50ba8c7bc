/**
 * HubSpot request signature v3: base64(HMAC-SHA256(clientSecret, METHOD + URI + rawBody + timestamp)),
 * checked over the raw body bytes, in constant time, with the timestamp inside ±5 minutes of now.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

export type SignatureRefusal =
  'missing_signature' | 'unsupported_signature_version' | 'malformed_timestamp' | 'stale_timestamp' | 'future_timestamp' | 'bad_signature';

export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureRefusal; message: string };

export interface SignedRequest {
  method: string;
  /** The full URI HubSpot called: public origin + path + query. */
  uri: string;
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

// HubSpot decodes these escapes in the URI before signing (request-validation docs).
const DECODED_ESCAPES: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

/** Applies HubSpot's URI decoding rule before hashing. */
export function normalizeSignedUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (escape) => DECODED_ESCAPES[escape.toUpperCase()] ?? escape);
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Computes the v3 signature (also used by tests and the benchmark to sign requests). */
export function signV3(secret: string, method: string, uri: string, rawBody: Buffer | string, timestamp: string): string {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}${normalizeSignedUri(uri)}`)
    .update(rawBody)
    .update(timestamp)
    .digest('base64');
}

/**
 * The checks that need no body: the v3 signature and timestamp headers are present and the
 * timestamp is inside the window. Run before the body is read, so a request that cannot be
 * signed costs no memory; `verifyHubSpotSignature` repeats them with the body.
 */
export function checkSignatureHeaders(headers: SignedRequest['headers'], now: number): SignatureCheck {
  const signature = header(headers, 'x-hubspot-signature-v3');
  const timestamp = header(headers, 'x-hubspot-request-timestamp');
  if (!signature) {
    const legacy = header(headers, 'x-hubspot-signature');
    if (legacy) {
      const version = header(headers, 'x-hubspot-signature-version') ?? 'v1';
      return {
        ok: false,
        reason: 'unsupported_signature_version',
        message: `signature ${version} is not accepted: only X-HubSpot-Signature-v3 (with X-HubSpot-Request-Timestamp) is`,
      };
    }
    return { ok: false, reason: 'missing_signature', message: 'X-HubSpot-Signature-v3 header is missing' };
  }
  if (!timestamp) return { ok: false, reason: 'missing_signature', message: 'X-HubSpot-Request-Timestamp header is missing' };
  if (!/^\d{1,16}$/.test(timestamp))
    return { ok: false, reason: 'malformed_timestamp', message: 'X-HubSpot-Request-Timestamp must be epoch milliseconds' };
  const sentAt = Number(timestamp);
  if (now - sentAt > SIGNATURE_WINDOW_MS)
    return { ok: false, reason: 'stale_timestamp', message: 'request timestamp is older than 5 minutes' };
  if (sentAt - now > SIGNATURE_WINDOW_MS)
    return { ok: false, reason: 'future_timestamp', message: 'request timestamp is more than 5 minutes ahead' };
  return { ok: true };
}

/** Verifies a webhook request; `now` is injected so both sides of the window can be tested. */
export function verifyHubSpotSignature(request: SignedRequest, secret: string, now: number): SignatureCheck {
  const headersCheck = checkSignatureHeaders(request.headers, now);
  if (!headersCheck.ok) return headersCheck;
  const signature = header(request.headers, 'x-hubspot-signature-v3') ?? '';
  const timestamp = header(request.headers, 'x-hubspot-request-timestamp') ?? '';
  const expected = Buffer.from(signV3(secret, request.method, request.uri, request.rawBody, timestamp), 'base64');
  const given = Buffer.from(signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad_signature', message: 'signature does not match the request' };
  }
  return { ok: true };
}
