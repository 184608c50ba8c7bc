/**
 * The scheduled review digest, end to end on real sockets: a local SMTP server (smtp-server, the
 * mail read back with mailparser) and a local HTTP receiver that checks the alert signature. The
 * digest of a due slot arrives once at both — with two senders racing, with two worker pools on
 * the same Redis, and again after a "restart" — with the review's numbers; an SMTP failure is
 * retried without repeating the chat message. The review itself is a fixture built in the test.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueueEvents } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { Producer } from '../../src/queue/producer.ts';
import { producerConnection, workerConnection } from '../../src/queue/redis.ts';
import { startWorkers, type WorkerPool } from '../../src/queue/worker-runner.ts';
import { createMetrics } from '../../src/metrics.ts';
import type { Db } from '../../src/store/db.ts';
import { digestOf } from '../../src/store/digests.ts';
import { migrate } from '../../src/store/migrate.ts';
import { verifyAlertSignature, type ReviewDigestAlert } from '../../src/sync/alerts.ts';
import { sendDueDigest, sendTestDigest, type DigestDeps, type ReviewSource } from '../../src/sync/digest.ts';
import { smtpSender, type MailSender } from '../../src/sync/mail.ts';
import { parseAddressRanges, type OutboundPolicy } from '../../src/sync/outbound-http.ts';
import { reviewDigestProcessors } from '../../workers/review-digest.worker.ts';
import { BACKENDS, openTestDb } from '../support/db.ts';
import { dropPrefix, uniquePrefix } from '../support/queue.ts';
import { FIXTURE_FIGURES, reviewFixture } from '../support/review-fixture.ts';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.ts';

const SECRET = 'review-digest-secret-0123456789';
const PUBLIC_URL = 'https://sync.example.com';
// Monday 30 November 2026, 08:00 in Paris (CET) is 07:00Z: the slot 2026-W49 is due a minute before.
const NOW = new Date('2026-11-30T07:01:00Z');
const DIGEST = {
  enabled: true,
  every: 'week',
  weekday: 1,
  hour: 8,
  timeZone: 'Europe/Paris',
  period: 'quarter',
  emailTo: ['sales-lead@example.com', 'marketing-lead@example.com'],
  toAlertTarget: true,
};

describe.each(BACKENDS)('review digest on %s', (backend) => {
  let db: Db;
  let smtp: TestSmtpServer;
  let receiver: http.Server;
  let receiverPort: number;
  const posts: { body: ReviewDigestAlert; signed: boolean }[] = [];
  const senders: MailSender[] = [];
  let installations = 0;

  const allowLoopback = parseAddressRanges(['127.0.0.1/32']);
  if (!allowLoopback.ok) throw new Error(allowLoopback.error);
  // "receiver.test" exists only in this resolver; the SSRF policy still checks the address.
  const outbound: OutboundPolicy = {
    allowPrivate: allowLoopback.value,
    resolve: async (host) => (host === 'receiver.test' ? [{ address: '127.0.0.1', family: 4 }] : []),
  };
  const reviewsBuilt: string[] = [];
  const review: ReviewSource = async (installationId, period) => {
    reviewsBuilt.push(`${installationId}:${period.id}`);
    return reviewFixture(installationId, period.id);
  };

  function deps(overrides: Partial<DigestDeps> = {}): DigestDeps {
    const mail = smtpSender({
      host: '127.0.0.1',
      port: smtp.port,
      secure: false,
      auth: undefined,
      from: 'Pipeline review <review@example.com>',
    });
    senders.push(mail);
    return {
      db,
      review,
      mail,
      outbound,
      publicUrl: PUBLIC_URL,
      alertTarget: () =>
        Promise.resolve({ target: { url: `http://receiver.test:${receiverPort}/hooks/digest`, secret: SECRET }, problem: null }),
      now: () => NOW,
      ...overrides,
    };
  }

  async function newInstallation(digest: Record<string, unknown> = DIGEST): Promise<{ id: string; name: string }> {
    installations += 1;
    const installation = { id: `digest-${backend}-${installations}`, name: `Acme ${installations}` };
    await db.query('INSERT INTO installations (id, name, salesforce_webhook_token, settings) VALUES ($1, $2, $3, $4)', [
      installation.id,
      installation.name,
      `digest-token-${installations}`,
      JSON.stringify({ reviewDigest: digest }),
    ]);
    return installation;
  }

  const mailsTo = (installationName: string) => smtp.received.filter((received) => received.mail.subject?.includes(installationName));
  const postsOf = (installationId: string) => posts.filter((post) => post.body.installationId === installationId);

  beforeAll(async () => {
    db = await openTestDb(backend);
    await migrate(db);
    smtp = await startSmtpServer();
    receiver = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        posts.push({
          body: JSON.parse(body) as ReviewDigestAlert,
          signed: verifyAlertSignature(body, SECRET, req.headers['x-smarketing-signature'] as string | undefined),
        });
        res.writeHead(204).end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => receiver.once('listening', () => resolve()));
    receiverPort = (receiver.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const sender of senders) sender.close();
    await smtp.close();
    await new Promise((resolve) => receiver.close(resolve));
    await db.close();
  });

  it('sends the due digest once to the SMTP server and the alert target when two senders race and after a restart', async () => {
    const installation = await newInstallation();
    const [first, second] = await Promise.all([sendDueDigest(deps(), installation), sendDueDigest(deps(), installation)]);
    expect([first.claimed, second.claimed].filter(Boolean)).toHaveLength(1);
    // A restart: new senders, same database.
    const again = await sendDueDigest(deps(), installation);
    expect(again).toMatchObject({ slotId: '2026-W49', claimed: false, sent: [] });

    const received = mailsTo(installation.name);
    expect(received).toHaveLength(1);
    const [email] = received;
    expect(email?.to.sort()).toEqual(['marketing-lead@example.com', 'sales-lead@example.com']);
    expect(email?.mail.subject).toBe(`Pipeline review 2026-Q4 — ${installation.name}`);
    expect(email?.mail.from?.text).toBe('"Pipeline review" <review@example.com>');
    for (const figure of FIXTURE_FIGURES.email) {
      expect(email?.mail.text).toContain(figure);
      expect(email?.mail.html || '').toContain(figure);
    }
    expect(email?.mail.text).toContain(`${PUBLIC_URL}/admin/review?installation=${installation.id}&period=2026-Q4`);

    const chat = postsOf(installation.id);
    expect(chat).toHaveLength(1);
    expect(chat[0]?.signed).toBe(true);
    expect(chat[0]?.body).toMatchObject({
      event: 'review.digest',
      slot: '2026-W49',
      period: '2026-Q4',
      test: false,
      deliveryId: `review-digest-${installation.id}-2026-W49`,
    });
    for (const figure of FIXTURE_FIGURES.chat) expect(chat[0]?.body.text).toContain(figure);

    const record = await digestOf(db, installation.id, '2026-W49');
    expect(record).toMatchObject({ periodId: '2026-Q4', email: { state: 'sent' }, chat: { state: 'sent', detail: 'to the alert target' } });
    expect(record?.completedAt).not.toBeNull();
    const log = await db.query<{ action: string; reason: string }>(
      'SELECT action, reason FROM sync_log WHERE installation_id = $1 ORDER BY id',
      [installation.id],
    );
    expect(log.map((row) => row.action)).toEqual(['review_digest_sent', 'review_digest_sent']);
    expect(log[0]?.reason).toMatch(/^Review digest 2026-W49 \(2026-Q4\): email sent to /);
  });

  it('retries a failed SMTP send at the next check without repeating the chat message', async () => {
    const installation = await newInstallation();
    smtp.refuseNext = 1;
    const first = await sendDueDigest(deps(), installation);
    expect(first).toMatchObject({ sent: ['chat'], retry: [expect.stringMatching(/^SMTP EMESSAGE 451: .*try again later/)] });
    expect(mailsTo(installation.name)).toHaveLength(0);
    expect(await digestOf(db, installation.id, '2026-W49')).toMatchObject({
      email: { state: 'pending' },
      chat: { state: 'sent' },
      completedAt: null,
    });

    const second = await sendDueDigest(deps(), installation);
    expect(second).toMatchObject({ sent: ['email'], retry: [] });
    expect(mailsTo(installation.name)).toHaveLength(1);
    expect(postsOf(installation.id)).toHaveLength(1);
    expect(await sendDueDigest(deps(), installation)).toMatchObject({ claimed: false });
    const failures = await db.query<{ level: string; reason: string }>(
      "SELECT level, reason FROM sync_log WHERE installation_id = $1 AND action = 'review_digest_failed'",
      [installation.id],
    );
    expect(failures).toEqual([
      { level: 'warn', reason: expect.stringContaining('email not sent yet, tried again at the next check: SMTP EMESSAGE 451') },
    ]);
  });

  it('sends nothing before the slot is due, and says so when email is not configured', async () => {
    const installation = await newInstallation();
    expect(await sendDueDigest(deps({ now: () => new Date('2026-11-30T06:59:00Z') }), installation)).toMatchObject({
      slotId: null,
      claimed: false,
    });
    const outcome = await sendDueDigest(deps({ mail: undefined }), installation);
    expect(outcome).toMatchObject({ sent: ['chat'], failed: ['email'] });
    expect(await digestOf(db, installation.id, '2026-W49')).toMatchObject({
      email: { state: 'failed', detail: 'email is not configured on this deployment (SMTP_HOST, SMTP_FROM)' },
    });
    expect(mailsTo(installation.name)).toHaveLength(0);
  });

  it('sends a test digest without consuming the slot', async () => {
    const installation = await newInstallation();
    const test = await sendTestDigest(deps(), installation, 'request-1');
    expect(test.sent.sort()).toEqual(['chat', 'email']);
    const scheduled = await sendDueDigest(deps(), installation);
    expect(scheduled.sent.sort()).toEqual(['chat', 'email']);
    expect(mailsTo(installation.name).map((received) => received.mail.subject)).toEqual([
      `[Test] Pipeline review 2026-Q4 — ${installation.name}`,
      `Pipeline review 2026-Q4 — ${installation.name}`,
    ]);
    expect(postsOf(installation.id).map((post) => post.body.test)).toEqual([true, false]);
  });

  it("reports a test digest the SMTP server refuses as failed at once, with the server's reply", async () => {
    const installation = await newInstallation();
    smtp.refuseNext = 1;
    const test = await sendTestDigest(deps(), installation, 'request-refused');
    expect(test).toMatchObject({ sent: ['chat'], failed: ['email'], retry: [] });
    expect(await digestOf(db, installation.id, 'test:request-refused')).toMatchObject({
      email: { state: 'failed', detail: expect.stringMatching(/^SMTP EMESSAGE 451: .*try again later/) },
      completedAt: expect.any(Date),
    });
  });

  describe('through the queue', () => {
    let prefix: string;
    const pools: WorkerPool[] = [];
    const connections: ReturnType<typeof workerConnection>[] = [];

    afterEach(async () => {
      for (const pool of pools.splice(0)) await pool.close();
      for (const connection of connections.splice(0)) connection.disconnect();
      await dropPrefix(prefix);
    });

    function startPool(): WorkerPool {
      const connection = workerConnection(inject('redisUrl'));
      connections.push(connection);
      const { publicUrl: _unused, ...rest } = deps();
      const pool = startWorkers(reviewDigestProcessors({ ...rest, log: createLogger('silent'), publicUrl: () => PUBLIC_URL }), {
        connection,
        prefix,
        log: createLogger('silent'),
        metrics: createMetrics({ defaultMetrics: false }),
      });
      pools.push(pool);
      return pool;
    }

    it('sends once when two workers take ticks at once and again after a restart', async () => {
      prefix = uniquePrefix();
      // This database's earlier installations are done; only the new one has a slot to send.
      const installation = await newInstallation();
      const producerRedis = producerConnection(inject('redisUrl'));
      const producer = new Producer(producerRedis, prefix);
      const events = new QueueEvents('review-digests', { connection: workerConnection(inject('redisUrl')), prefix });
      await events.waitUntilReady();
      try {
        startPool();
        startPool();
        const queue = producer.queue('reviewDigests');
        const ticks = await Promise.all(
          ['tick-1', 'tick-2', 'tick-3'].map((jobId) => queue.add('review-digest-tick', { v: 1, kind: 'tick' }, { jobId })),
        );
        await Promise.all(ticks.map((job) => job.waitUntilFinished(events)));
        // A restart: both pools stop, a new one takes the next tick.
        for (const pool of pools.splice(0)) await pool.close();
        startPool();
        await (await queue.add('review-digest-tick', { v: 1, kind: 'tick' }, { jobId: 'tick-4' })).waitUntilFinished(events);

        expect(mailsTo(installation.name)).toHaveLength(1);
        expect(postsOf(installation.id)).toHaveLength(1);
        expect(await digestOf(db, installation.id, '2026-W49')).toMatchObject({
          attempts: 1,
          email: { state: 'sent' },
          chat: { state: 'sent' },
        });
      } finally {
        await events.close();
        await producer.close();
        producerRedis.disconnect();
      }
    });
  });
});
