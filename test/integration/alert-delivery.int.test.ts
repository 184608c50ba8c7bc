/**
 * The alert POST over real sockets: to the address that was checked (the host name stays in the
 * Host header), to public addresses only unless OUTBOUND_ALLOW_PRIVATE allows a range, and with
 * failures that say nothing about status codes or ports.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ALERT_SECRET, BREACHED_CLOCK, escalationOf } from '../support/sla-fixtures.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildBreachAlert, sendAlert, verifyAlertSignature } from '../../src/sync/alerts.ts';
import { parseAddressRanges, type OutboundPolicy } from '../../src/sync/outbound-http.ts';
import { freePort } from '../../src/startup/redis-server.ts';

const SECRET = ALERT_SECRET;
const clock = BREACHED_CLOCK;
const escalation = escalationOf(null);
const alert = buildBreachAlert(escalation, clock);

interface Received {
  host: string | undefined;
  path: string | undefined;
  signature: string | undefined;
  delivery: string | undefined;
  body: string;
}

describe('alert delivery', () => {
  let server: http.Server;
  let port: number;
  const received: Received[] = [];
  let answer: { status: number; headers?: Record<string, string> } = { status: 204 };
  const loopbackAllowed = parseAddressRanges(['127.0.0.1/32']);
  if (!loopbackAllowed.ok) throw new Error(loopbackAllowed.error);
  // "receiver.test" exists only in this resolver: a request can reach the receiver only through the pinned address.
  const resolve: NonNullable<OutboundPolicy['resolve']> = async (hostname) =>
    hostname === 'receiver.test' ? [{ address: '127.0.0.1', family: 4 }] : [];
  const allowing: OutboundPolicy = { allowPrivate: loopbackAllowed.value, resolve };
  const strict: OutboundPolicy = { allowPrivate: [], resolve };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({
          host: req.headers.host,
          path: req.url,
          signature: req.headers['x-smarketing-signature'] as string | undefined,
          delivery: req.headers['x-smarketing-delivery'] as string | undefined,
          body,
        });
        res.writeHead(answer.status, answer.headers ?? {}).end('receiver says no');
      });
    });
    server.listen(0, '127.0.0.1');
    await new Promise<void>((done) => server.once('listening', () => done()));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((done) => server.close(done));
  });

  beforeEach(() => {
    received.length = 0;
    answer = { status: 204 };
  });

  it('posts the signed body to the checked address, naming the host in the Host header', async () => {
    const result = await sendAlert({ url: `http://receiver.test:${port}/hooks/T0/B0/pathtoken`, secret: SECRET }, alert, {
      policy: allowing,
    });
    expect(result).toEqual({ kind: 'delivered' });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.host).toBe(`receiver.test:${port}`);
    expect(request?.path).toBe('/hooks/T0/B0/pathtoken');
    expect(request?.delivery).toBe('sla-escalation-3');
    expect(verifyAlertSignature(request?.body ?? '', SECRET, request?.signature)).toBe(true);
  });

  it('refuses a loopback target by default: nothing reaches the receiver', async () => {
    const result = await sendAlert({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }, alert, { policy: strict });
    expect(result).toMatchObject({ kind: 'refused' });
    if (result.kind !== 'delivered')
      expect(result.reason).toMatch(/^delivery failed: refused by policy \(127\.0\.0\.1, a loopback address/);
    expect(received).toHaveLength(0);
  });

  it('checks the host again when sending: a name that now resolves to loopback is refused', async () => {
    const result = await sendAlert({ url: `https://receiver.test:${port}/hook`, secret: SECRET }, alert, { policy: strict });
    expect(result).toMatchObject({
      kind: 'refused',
      reason: expect.stringMatching(/receiver\.test resolves to 127\.0\.0\.1, a loopback address/),
    });
    expect(received).toHaveLength(0);
  });

  it.each([500, 502, 503, 408, 429])('asks for a retry on HTTP %i without naming the status', async (status) => {
    answer = { status };
    expect(await sendAlert({ url: `http://receiver.test:${port}/hook`, secret: SECRET }, alert, { policy: allowing })).toEqual({
      kind: 'retry',
      reason: 'delivery failed: rejected by receiver',
    });
  });

  it.each([400, 401, 404, 410])('gives up on HTTP %i without naming the status', async (status) => {
    answer = { status };
    expect(await sendAlert({ url: `http://receiver.test:${port}/hook`, secret: SECRET }, alert, { policy: allowing })).toEqual({
      kind: 'refused',
      reason: 'delivery failed: rejected by receiver',
    });
  });

  it('does not follow a redirect', async () => {
    answer = { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } };
    expect(await sendAlert({ url: `http://receiver.test:${port}/hook`, secret: SECRET }, alert, { policy: allowing })).toEqual({
      kind: 'refused',
      reason: 'delivery failed: rejected by receiver',
    });
    expect(received).toHaveLength(1);
  });

  it('says the same of a closed port as of a host that does not resolve, naming neither port nor URL', async () => {
    const closed = await freePort();
    const toClosedPort = await sendAlert({ url: `http://receiver.test:${closed}/hooks/pathtoken`, secret: SECRET }, alert, {
      policy: allowing,
    });
    const toNowhere = await sendAlert({ url: 'https://nowhere.test/hooks/pathtoken', secret: SECRET }, alert, { policy: allowing });
    expect(toClosedPort).toEqual({ kind: 'retry', reason: 'delivery failed: unreachable' });
    expect(toNowhere).toEqual(toClosedPort);
  });
});
