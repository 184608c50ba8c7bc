/** A local webhook endpoint that records every delivery with its raw body and headers. */
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { WebhookEvent } from '../../../src/sandbox/hubspot/server.ts';

export interface ReceivedDelivery {
  rawBody: string;
  headers: IncomingHttpHeaders;
  events: WebhookEvent[];
  status: number;
}

/** Decides the answer to the n-th request (0-based): a status, optionally after a delay. */
export type Responder = (index: number, delivery: ReceivedDelivery) => { status: number; delayMs?: number };

export interface WebhookReceiver {
  url: string;
  deliveries: ReceivedDelivery[];
  respondWith(responder: Responder): void;
  /** Resolves once at least `count` requests arrived. */
  waitForDeliveries(count: number, timeoutMs?: number): Promise<ReceivedDelivery[]>;
  events(): WebhookEvent[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const deliveries: ReceivedDelivery[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let responder: Responder = () => ({ status: 204 });
  const app = express();
  app.post('/hubspot/webhooks', express.raw({ type: '*/*' }), (req, res) => {
    const rawBody = (req.body as Buffer).toString('utf8');
    const delivery: ReceivedDelivery = { rawBody, headers: req.headers, events: JSON.parse(rawBody) as WebhookEvent[], status: 0 };
    const answer = responder(deliveries.length, delivery);
    delivery.status = answer.status;
    deliveries.push(delivery);
    for (const waiter of [...waiters]) {
      if (deliveries.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    const send = () => {
      if (!res.writableEnded) res.status(answer.status).end();
    };
    if (answer.delayMs === undefined) send();
    else setTimeout(send, answer.delayMs);
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hubspot/webhooks`,
    deliveries,
    respondWith(next) {
      responder = next;
    },
    waitForDeliveries(count, timeoutMs = 5000) {
      if (deliveries.length >= count) return Promise.resolve(deliveries);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} webhook requests, got ${deliveries.length}`)), timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(deliveries);
          },
        });
      });
    },
    events: () => deliveries.flatMap((delivery) => delivery.events),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
