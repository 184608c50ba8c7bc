/** `/query` and `/queryAll` with `nextRecordsUrl` paging (default batch 2000, `Sforce-Query-Options`). */
import type { Express, Request, Response } from 'express';
import { sessionOf, type SandboxContext } from './context.ts';
import { httpError, malformedQuery } from './errors.ts';
import { orgSource } from './org-source.ts';
import { batchSizeFrom, type QueryPage } from './query-cursors.ts';
import { API, urlBase } from './rest-routes.ts';
import { runSoql } from './soql.ts';
import type { SoqlSource } from './soql-paths.ts';

export interface QueryRequest {
  source: SoqlSource;
  /** `query` or `tooling/query`. */
  resource: string;
  soql: string;
  includeDeleted: boolean;
  urlBase: string;
  /** Base of `attributes.url` when it differs from urlBase (the Tooling API). */
  recordUrlBase?: string;
  userId: string;
  batchSize: number;
}

/** Runs SOQL and returns its first page, opening a cursor for the rest. */
export function firstPage(ctx: SandboxContext, q: QueryRequest, check?: (result: { totalSize: number }, soql: string) => void): QueryPage {
  const result = runSoql(q.source, q.soql, {
    includeDeleted: q.includeDeleted,
    now: ctx.config.now(),
    urlBase: q.recordUrlBase ?? q.urlBase,
  });
  check?.(result, q.soql);
  return ctx.cursors.open(q.userId, q.resource, q.urlBase, result.records, result.totalSize, q.batchSize);
}

export function soqlParam(req: Request): string {
  if (req.query.explain !== undefined) throw malformedQuery('The query explain plan is not available in the sandbox org');
  const q = req.query.q;
  if (typeof q !== 'string' || q.trim() === '') throw httpError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
  return q;
}

export function registerQueryRoutes(app: Express, ctx: SandboxContext): void {
  const run = (includeDeleted: boolean) => (req: Request, res: Response) => {
    res.json(
      firstPage(ctx, {
        source: orgSource(ctx.store, sessionOf(res).userId),
        resource: 'query',
        soql: soqlParam(req),
        includeDeleted,
        urlBase: urlBase(req),
        userId: sessionOf(res).userId,
        batchSize: batchSizeFrom(req.get('sforce-query-options')),
      }),
    );
  };
  const more = (req: Request, res: Response) => {
    res.json(ctx.cursors.next(sessionOf(res).userId, 'query', urlBase(req), String(req.params.locator)));
  };
  app.get(`${API}/query`, run(false));
  app.get(`${API}/queryAll`, run(true));
  app.get(`${API}/query/:locator`, more);
  app.get(`${API}/queryAll/:locator`, more);
}
