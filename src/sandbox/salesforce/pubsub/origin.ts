/**
 * `ChangeEventHeader.changeOrigin` of the request being served: `com/salesforce/api/<rest|soap>/<version>`
 * plus `;client=<id>` when the writer sent `Sforce-Call-Options: client=<id>` (Change Data Capture
 * Developer Guide, "Change Event Header Fields"; a SOAP call names its client in the `CallOptions`
 * SOAP header instead, Apex reference "ChangeEventHeader Class"). Held in an AsyncLocalStorage so the change events a
 * request commits can read it without the write path knowing about CDC.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';

const currentOrigin = new AsyncLocalStorage<string>();

/** The `client` option of a `Sforce-Call-Options` header (`client=Acme, defaultNamespace=x`). */
function callOptionsClient(header: string | undefined): string | undefined {
  const match = /(?:^|[,;]\s*)client=([^,;\s]+)/.exec(header ?? '');
  return match?.[1];
}

function originOf(req: Request): string {
  const api = /^\/services\/(data|Soap\/[a-z])\/v?(\d+\.\d)/.exec(req.path);
  if (!api) return '';
  const kind = api[1] === 'data' ? 'rest' : 'soap';
  const client = callOptionsClient(req.get('sforce-call-options'));
  return `com/salesforce/api/${kind}/${api[2] ?? ''}${client === undefined ? '' : `;client=${client}`}`;
}

/** Express middleware: the rest of the request runs with its change origin at hand. */
export function captureChangeOrigin(req: Request, _res: Response, next: NextFunction): void {
  currentOrigin.run(originOf(req), next);
}

/**
 * Runs a SOAP operation with the client its `CallOptions` header names appended to the request's
 * origin (the HTTP header is not how SOAP clients send it).
 */
export function withSoapCallOptionsClient<T>(client: string | undefined, operation: () => T): T {
  const origin = currentOrigin.getStore() ?? '';
  if (client === undefined || origin === '' || origin.includes(';client=')) return operation();
  return currentOrigin.run(`${origin};client=${client}`, operation);
}

/** The change origin of the request committing now; empty outside an API request. */
export function changeOriginNow(): string {
  return currentOrigin.getStore() ?? '';
}
