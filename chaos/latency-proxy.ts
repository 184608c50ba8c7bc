/**
 * Slow responses: a small HTTP proxy between the worker processes and a sandbox CRM. The sandboxes
 * have no knob for a slow API answer, so the workers reach each CRM through one of these; while a
 * slowdown is on, a share of the answers is held back for a while after the CRM has already
 * handled the request (the write is done, the caller just hears about it late).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../src/startup/redis-server.ts';

export interface Slowdown {
  /** Share of responses held back. */
  probability: number;
  minMs: number;
  maxMs: number;
}

export interface LatencyProxy {
  /** The proxy's origin, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  setSlowdown(slowdown: Slowdown | null): void;
  /** Responses held back so far. */
  delayed(): number;
  close(): Promise<void>;
}

/** Paths whose answers name the server's own origin (OAuth token, SOAP login): rewritten to the proxy's. */
const ORIGIN_NAMING = /^\/services\/(oauth2\/token|Soap\/[uc]\/)/;

/** Starts a proxy to `targetOrigin` on a free loopback port; `random` decides which responses are slowed. */
export async function startLatencyProxy(targetOrigin: string, random: () => number): Promise<LatencyProxy> {
  const target = new URL(targetOrigin);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let slowdown: Slowdown | null = null;
  let delayed = 0;

  const server = http.createServer((req, res) => {
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
        agent,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          let body = Buffer.concat(chunks);
          if (ORIGIN_NAMING.test(req.url ?? '')) body = Buffer.from(body.toString('utf8').split(targetOrigin).join(origin), 'utf8');
          const headers = { ...answer.headers, 'content-length': String(body.length) };
          delete headers['transfer-encoding'];
          const reply = () => {
            res.writeHead(answer.statusCode ?? 502, headers);
            res.end(body);
          };
          const knob = slowdown;
          if (knob !== null && random() < knob.probability) {
            delayed += 1;
            setTimeout(reply, knob.minMs + Math.floor(random() * (knob.maxMs - knob.minMs + 1)));
          } else {
            reply();
          }
        });
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('proxy: upstream failed');
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: origin,
    port: address.port,
    setSlowdown: (next) => {
      slowdown = next;
    },
    delayed: () => delayed,
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
