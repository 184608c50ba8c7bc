/**
 * `POST /composite`: up to 25 subrequests in one API call, later ones referring to earlier results
 * with `@{referenceId.path}`. Supports sObject create/retrieve/update/upsert/delete and query
 * subrequests; `allOrNone` rolls back the whole series on the first failure.
 */
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { scalarText, sessionOf, writeContext, type SandboxContext } from './context.ts';
import { httpError, SfHttpError, statusForRecordErrors } from './errors.ts';
import { toId18 } from './ids.ts';
import { orgSource } from './org-source.ts';
import { batchSizeFrom } from './query-cursors.ts';
import { fieldList, recordBody } from './record-json.ts';
import { createRecord, deleteRecord, updateRecord, upsertRecord, type UpsertResult } from './records.ts';
import { firstPage } from './query-routes.ts';
import { API } from './rest-routes.ts';
import type { Txn } from './state-store.ts';
import type { SfError } from './types.ts';

const MAX_SUBREQUESTS = 25;
const MAX_QUERY_SUBREQUESTS = 5;

const compositeSchema = z.strictObject({
  allOrNone: z.boolean().default(false),
  collateSubrequests: z.boolean().optional(),
  compositeRequest: z
    .array(
      z.strictObject({
        method: z.enum(['GET', 'POST', 'PATCH', 'DELETE']),
        url: z.string().min(1),
        referenceId: z.string().regex(/^[A-Za-z0-9_]+$/),
        body: z.record(z.string(), z.unknown()).optional(),
        httpHeaders: z.record(z.string(), z.string()).optional(),
      }),
    )
    .min(1),
});

type Subrequest = z.infer<typeof compositeSchema>['compositeRequest'][number];

interface SubResponse {
  body: unknown;
  httpHeaders: Record<string, string>;
  httpStatusCode: number;
  referenceId: string;
}

const halted = (message: string): SfError[] => [{ errorCode: 'PROCESSING_HALTED', message }];

/** Reads `records[0].Id`-style paths from an earlier subrequest's body. */
function readReference(body: unknown, path: string): unknown {
  let current: unknown = body;
  for (const part of path.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

class UnresolvedReference extends Error {}

function substitute(value: unknown, results: Map<string, SubResponse>): unknown {
  if (typeof value === 'string') {
    return value.replace(/@\{([A-Za-z0-9_]+)\.([^}]+)\}/g, (_m, ref: string, path: string) => {
      const earlier = results.get(ref);
      const found = earlier && earlier.httpStatusCode < 300 ? readReference(earlier.body, path) : undefined;
      if (found === undefined || found === null || typeof found === 'object') {
        throw new UnresolvedReference(
          `Invalid reference specified. No value for ${ref}.${path} found in ${ref}. Provided referenceId ('${ref}') must be earlier in the request and succeed.`,
        );
      }
      return scalarText(found);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, results));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, results)]));
  }
  return value;
}

function writeResponse(result: UpsertResult, referenceId: string, created: number, versionBase: string, type: string): SubResponse {
  if ('multiple' in result)
    return {
      body: result.multiple.map((id) => `${versionBase}/sobjects/${type}/${id}`),
      httpHeaders: {},
      httpStatusCode: 300,
      referenceId,
    };
  if (!result.ok) return { body: result.errors, httpHeaders: {}, httpStatusCode: statusForRecordErrors(result.errors), referenceId };
  if (result.created) {
    return {
      body: { id: result.id, success: true, errors: [], created: true },
      httpHeaders: { Location: `${versionBase}/sobjects/${type}/${result.id}` },
      httpStatusCode: created,
      referenceId,
    };
  }
  return { body: null, httpHeaders: {}, httpStatusCode: 204, referenceId };
}

/** Executes one subrequest inside the series' transaction. */
function execute(ctx: SandboxContext, txn: Txn, req: Request, res: Response, sub: Subrequest): SubResponse {
  const m = /^\/services\/data\/(v\d{2}\.0)\/(.+)$/.exec(sub.url.split('?')[0] ?? '');
  const url = new URL(sub.url, 'http://composite.local');
  if (!m) throw httpError(400, 'INVALID_API_INPUT', `Unsupported subrequest URL: ${sub.url}`);
  const versionBase = `/services/data/${m[1] ?? ''}`;
  const parts = (m[2] ?? '').split('/').map(decodeURIComponent);
  const wc = {
    ...writeContext(ctx, req, res),
    ...(sub.httpHeaders?.['Sforce-Auto-Assign']?.toUpperCase() === 'FALSE' ? { autoAssign: false } : {}),
  };
  const body = sub.body ?? {};
  const [root, type = '', a, b] = parts;
  if (root === 'query' && parts.length === 1 && sub.method === 'GET') {
    const page = firstPage(ctx, {
      source: orgSource(ctx.store, sessionOf(res).userId),
      resource: 'query',
      soql: url.searchParams.get('q') ?? '',
      includeDeleted: false,
      urlBase: versionBase,
      userId: sessionOf(res).userId,
      batchSize: batchSizeFrom(sub.httpHeaders?.['Sforce-Query-Options']),
    });
    return { body: page, httpHeaders: {}, httpStatusCode: 200, referenceId: sub.referenceId };
  }
  if (root !== 'sobjects' || type === '') throw httpError(400, 'INVALID_API_INPUT', `Unsupported subrequest URL: ${sub.url}`);
  const schema = ctx.store.schemaFor(wc.userId);
  const obj = schema.object(type);
  if (!obj) throw httpError(404, 'NOT_FOUND', 'The requested resource does not exist');
  if (sub.method === 'POST' && a === undefined)
    return writeResponse(createRecord(txn, obj.name, body, wc), sub.referenceId, 201, versionBase, obj.name);
  if (a !== undefined && b === undefined) {
    if (sub.method === 'PATCH') return writeResponse(updateRecord(txn, obj.name, a, body, wc), sub.referenceId, 200, versionBase, obj.name);
    if (sub.method === 'DELETE') return writeResponse(deleteRecord(txn, obj.name, a, wc), sub.referenceId, 204, versionBase, obj.name);
    if (sub.method === 'GET') {
      const id = toId18(a);
      const record = id === null ? undefined : ctx.store.get(obj.name, id);
      if (!record || record.IsDeleted === true) throw httpError(404, 'NOT_FOUND', 'The requested resource does not exist');
      const fields = fieldList(schema, obj, url.searchParams.get('fields') ?? undefined);
      return { body: recordBody(obj, record, versionBase, fields), httpHeaders: {}, httpStatusCode: 200, referenceId: sub.referenceId };
    }
  }
  if (a !== undefined && b !== undefined && sub.method === 'PATCH') {
    return writeResponse(upsertRecord(txn, obj.name, a, b, body, wc), sub.referenceId, 201, versionBase, obj.name);
  }
  throw httpError(400, 'INVALID_API_INPUT', `Unsupported subrequest: ${sub.method} ${sub.url}`);
}

export function registerCompositeRequestRoute(app: Express, ctx: SandboxContext): void {
  app.post(`${API}/composite`, (req, res) => {
    const parsed = compositeSchema.safeParse(req.body);
    if (!parsed.success)
      throw httpError(400, 'JSON_PARSER_ERROR', `Invalid composite request: ${parsed.error.issues[0]?.message ?? 'malformed body'}`);
    const { allOrNone, compositeRequest } = parsed.data;
    if (compositeRequest.length > MAX_SUBREQUESTS)
      throw httpError(400, 'LIMIT_EXCEEDED', `Limit Exceeded: at most ${MAX_SUBREQUESTS} subrequests`);
    if (compositeRequest.filter((s) => /\/(query|queryAll)\b/.test(s.url)).length > MAX_QUERY_SUBREQUESTS) {
      throw httpError(400, 'LIMIT_EXCEEDED', `Limit Exceeded: at most ${MAX_QUERY_SUBREQUESTS} query or collection subrequests`);
    }
    const txn = ctx.store.txn();
    const results = new Map<string, SubResponse>();
    const responses: SubResponse[] = [];
    for (const sub of compositeRequest) {
      let response: SubResponse;
      try {
        const resolved = {
          ...sub,
          url: String(substitute(sub.url, results)),
          body: substitute(sub.body, results) as Record<string, unknown> | undefined,
        };
        response = execute(ctx, txn, req, res, resolved);
      } catch (error) {
        if (error instanceof UnresolvedReference)
          response = { body: halted(error.message), httpHeaders: {}, httpStatusCode: 400, referenceId: sub.referenceId };
        else if (error instanceof SfHttpError)
          response = { body: error.errors, httpHeaders: {}, httpStatusCode: error.status, referenceId: sub.referenceId };
        else throw error;
      }
      results.set(sub.referenceId, response);
      responses.push(response);
    }
    const failedIndex = responses.findIndex((r) => r.httpStatusCode >= 400);
    if (allOrNone && failedIndex >= 0) {
      txn.rollback();
      const message = 'The transaction was rolled back since another operation in the same transaction failed.';
      res.json({
        compositeResponse: responses.map((r, i) =>
          i === failedIndex ? r : { ...r, body: halted(message), httpHeaders: {}, httpStatusCode: 400 },
        ),
      });
      return;
    }
    txn.commit();
    res.json({ compositeResponse: responses });
  });
}
