/**
 * What every receiver does after verifying and validating: make the delivery durable within a
 * time budget, then acknowledge. The outcome is a small union that each receiver maps to its HTTP
 * answer.
 */
import { hash } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import type { JobPayload } from '../src/queue/catalog.ts';
import type { Producer } from '../src/queue/producer.ts';

export type IntakeResult =
  | { kind: 'accepted'; enqueued: number; ignored: number }
  | { kind: 'refused'; status: 400 | 401 | 403 | 404 | 413 | 415; reason: string; message: string }
  | { kind: 'unavailable'; message: string };

/** How long a receiver waits for Redis before answering 503 (the sender then retries). */
export const DEFAULT_ENQUEUE_BUDGET_MS = 2_000;

class BudgetExceeded extends Error {}

function withinBudget<T>(work: Promise<T>, budgetMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BudgetExceeded(`queue did not answer within ${budgetMs} ms`)), budgetMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export type Delivery = JobPayload<'webhookDeliveries'>;

/**
 * A request's event jobs grouped by installation: one delivery is stored per installation (a
 * HubSpot batch may carry several portals' events), so each delivery belongs to one installation
 * like every other job (failed-job filter, uninstall).
 */
export function byInstallation<J extends { payload: { installationId: string } }>(
  jobs: readonly J[],
): [installationId: string, events: J[]][] {
  const groups = new Map<string, J[]>();
  for (const job of jobs) {
    const group = groups.get(job.payload.installationId);
    if (group) group.push(job);
    else groups.set(job.payload.installationId, [job]);
  }
  return [...groups];
}

/**
 * A delivery's job id, derived from its events' own deterministic ids: the same delivery sent
 * again meets its existing job and is not stored twice.
 */
export function deliveryJobId(delivery: Delivery): string {
  const prefix = delivery.source === 'hubspot' ? 'dl-hs' : 'dl-sf';
  return `${prefix}-${hash('sha256', delivery.events.map((e) => e.jobId).join('\n')).slice(0, 40)}`;
}

/**
 * Stores each delivery as one job — one Redis round trip for the request, one write per delivery
 * however many events it carries, so the answer does not wait on one write per event. The intake
 * worker splits them into one job per event (deterministic ids: a redelivered event is dropped
 * there). Resolves `unavailable` when Redis is down or slower than the budget: nothing is
 * acknowledged then.
 */
export async function enqueueDurably(
  deps: { producer: Producer; budgetMs: number },
  deliveries: readonly Delivery[],
  ignored: number,
): Promise<IntakeResult> {
  const enqueued = deliveries.reduce((sum, delivery) => sum + delivery.events.length, 0);
  if (enqueued === 0) return { kind: 'accepted', enqueued: 0, ignored };
  try {
    await withinBudget(
      deps.producer.enqueue(
        'webhookDeliveries',
        deliveries.map((payload) => ({ jobId: deliveryJobId(payload), payload })),
      ),
      deps.budgetMs,
    );
    return { kind: 'accepted', enqueued, ignored };
  } catch (error) {
    return { kind: 'unavailable', message: error instanceof BudgetExceeded ? error.message : 'queue is unavailable' };
  }
}

/** Turns a body-reading failure (too large, unreadable) into a refusal; undefined for other errors. */
export function bodyReadRefusal(error: unknown, maxBodyBytes: number, invalidReason: string): IntakeResult | undefined {
  const status = typeof error === 'object' && error !== null && 'status' in error ? error.status : undefined;
  if (status === 413) return { kind: 'refused', status: 413, reason: 'too_large', message: `body is larger than ${maxBodyBytes} bytes` };
  if (status === 400) return { kind: 'refused', status: 400, reason: invalidReason, message: 'body could not be read' };
  return undefined;
}

/**
 * Reads a webhook body into a Buffer, once the cheap checks (content type, endpoint token or
 * signature headers) have passed: a request refused before this point is never read. A declared
 * Content-Length over the limit is refused without reading a byte; a body without one is read up
 * to the limit and refused there.
 */
export async function readWebhookBody(
  req: Request,
  res: Response,
  maxBodyBytes: number,
  invalidReason: string,
): Promise<{ ok: true; body: Buffer } | { ok: false; refusal: IntakeResult }> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) {
    return {
      ok: false,
      refusal: { kind: 'refused', status: 413, reason: 'too_large', message: `body is larger than ${maxBodyBytes} bytes` },
    };
  }
  const read = express.raw({ type: () => true, limit: maxBodyBytes });
  try {
    await new Promise<void>((resolve, reject) => {
      read(req, res, (error?: unknown) =>
        error === undefined ? resolve() : reject(error instanceof Error ? error : new Error('body could not be read')),
      );
    });
  } catch (error) {
    const refusal = bodyReadRefusal(error, maxBodyBytes, invalidReason);
    if (refusal) return { ok: false, refusal };
    throw error;
  }
  return { ok: true, body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) };
}

/**
 * Runs a receiver and answers. When it answered before reading the body (a refusal by the cheap
 * checks), the connection is closed as soon as the answer is out instead of kept alive: keeping
 * it would mean reading (and discarding) the rest of a body nobody asked for, up to 100 × 4 MB at
 * once from senders who cannot prove who they are.
 */
export function answerWebhook(
  req: Request,
  res: Response,
  next: (error: unknown) => void,
  work: () => Promise<IntakeResult>,
  respond: (result: IntakeResult) => void,
): void {
  work().then((result) => {
    if (!req.readableEnded) {
      res.set('Connection', 'close');
      res.once('finish', () => req.socket.destroy());
    }
    respond(result);
  }, next);
}
