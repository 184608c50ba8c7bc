/**
 * sObject Collections (`/composite/sobjects`): create, update, upsert by external id, retrieve and
 * delete up to 200 records per call, with `allOrNone` rolling everything back on the first failure.
 */
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { queryParam, scalarText, sessionOf, writeContext, type SandboxContext } from './context.ts';
import { httpError, notFound } from './errors.ts';
import { toId18 } from './ids.ts';
import { collectionErrors, fieldList, recordBody, saveResult } from './record-json.ts';
import {
  createRecord,
  deleteRecord,
  updateRecord,
  upsertRecord,
  type UpsertResult,
  type WriteContext,
  type WriteResult,
} from './records.ts';
import { API, externalIdField, urlBase } from './rest-routes.ts';
import type { Txn } from './state-store.ts';
import type { SfError } from './types.ts';

export const MAX_COLLECTION_SIZE = 200;

const collectionSchema = z.strictObject({
  allOrNone: z.boolean().default(false),
  records: z.array(z.record(z.string(), z.unknown())),
});

const retrieveSchema = z.strictObject({ ids: z.array(z.string()).min(1), fields: z.array(z.string()).min(1) });

const rolledBack: SfError = {
  errorCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
};

const tooManyRecords = () =>
  httpError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION_SIZE} records into this call`);

function parseCollection(body: unknown): z.infer<typeof collectionSchema> {
  const parsed = collectionSchema.safeParse(body);
  if (!parsed.success)
    throw httpError(
      400,
      'JSON_PARSER_ERROR',
      `Invalid sObject Collections request: ${parsed.error.issues[0]?.message ?? 'malformed body'}`,
    );
  if (parsed.data.records.length > MAX_COLLECTION_SIZE) throw tooManyRecords();
  return parsed.data;
}

function typeOf(record: Record<string, unknown>): string | undefined {
  const attributes = record.attributes as { type?: unknown } | undefined;
  return typeof attributes?.type === 'string' ? attributes.type : undefined;
}

const failure = (errorCode: string, message: string, fields: string[] = []): WriteResult => ({
  ok: false,
  errors: [{ errorCode, message, fields }],
});

/**
 * Applies `write` to every record in one transaction. Without allOrNone each failed record is rolled
 * back alone; with allOrNone the first failure rolls back the whole request.
 */
function applyAll(ctx: SandboxContext, allOrNone: boolean, count: number, write: (txn: Txn, index: number) => UpsertResult): WriteResult[] {
  const txn = ctx.store.txn();
  const results: WriteResult[] = [];
  for (let i = 0; i < count; i++) {
    const point = txn.savepoint();
    const outcome = write(txn, i);
    const result: WriteResult =
      'multiple' in outcome
        ? failure('DUPLICATE_EXTERNAL_ID', `more than one record found for external id field: ${outcome.multiple.join(', ')}`)
        : outcome;
    if (!result.ok) txn.rollbackTo(point);
    results.push(result);
  }
  if (allOrNone && results.some((r) => !r.ok)) {
    txn.rollback();
    return results.map((r) => (r.ok ? { ok: false, errors: [rolledBack] } : r));
  }
  txn.commit();
  return results;
}

function respond(res: Response, results: WriteResult[], ids: Array<string | undefined>, withCreated: boolean): void {
  res.json(results.map((r, i) => (!r.ok && ids[i] ? { id: ids[i], ...saveResult(r, withCreated) } : saveResult(r, withCreated))));
}

/** Upserts a collection by the external id field of the path; a value given twice fails both records. */
function upsertCollection(ctx: SandboxContext, req: Request, res: Response): WriteResult[] {
  const { store } = ctx;
  const type = String(req.params.type);
  const schema = store.schemaFor(sessionOf(res).userId);
  const obj = schema.object(type);
  if (!obj) throw notFound();
  const field = externalIdField(schema, obj.name, String(req.params.field));
  const { allOrNone, records } = parseCollection(req.body);
  const wc = writeContext(ctx, req, res);
  const valueOf = (r: Record<string, unknown>) => {
    const key = Object.keys(r).find((k) => k.toLowerCase() === field.name.toLowerCase());
    const v = key === undefined ? undefined : r[key];
    return v === undefined || v === null ? undefined : scalarText(v);
  };
  const counts = new Map<string, number>();
  for (const r of records) {
    const v = valueOf(r)?.toLowerCase();
    if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const results = applyAll(ctx, allOrNone, records.length, (txn, i) => {
    const record = records[i] ?? {};
    const recordType = typeOf(record) ?? obj.name;
    if (recordType.toLowerCase() !== obj.name.toLowerCase())
      return failure('INVALID_TYPE', `Upserted records must all be of type ${obj.name}`);
    const value = valueOf(record);
    const { attributes: _attributes, ...input } = record;
    if (value === undefined) {
      return field.name === 'Id'
        ? createRecord(txn, obj.name, input, wc)
        : failure('REQUIRED_FIELD_MISSING', `Required fields are missing: [${field.name}]`, [field.name]);
    }
    if ((counts.get(value.toLowerCase()) ?? 0) > 1)
      return failure('DUPLICATE_EXTERNAL_ID', `Duplicate external id specified: ${value}`, [field.name]);
    return upsertRecord(txn, obj.name, field.name, value, input, wc);
  });
  return results;
}

/** sObject Collections: create, update, upsert, retrieve and delete. */
export function registerCollectionRoutes(app: Express, ctx: SandboxContext): void {
  registerCollectionWriteRoutes(app, ctx);
  registerCollectionReadRoutes(app, ctx);
  registerCollectionDeleteRoute(app, ctx);
}

/** Create, update and upsert by external id. */
function registerCollectionWriteRoutes(app: Express, ctx: SandboxContext): void {
  app.post(`${API}/composite/sobjects`, (req, res) => {
    const { allOrNone, records } = parseCollection(req.body);
    const wc: WriteContext = writeContext(ctx, req, res);
    const results = applyAll(ctx, allOrNone, records.length, (txn, i) => {
      const record = records[i] ?? {};
      const type = typeOf(record);
      if (!type) return failure('INVALID_TYPE', 'Must specify a type in the attributes of each record');
      const { attributes: _attributes, ...input } = record;
      return createRecord(txn, type, input, wc);
    });
    respond(res, results, [], false);
  });

  app.patch(`${API}/composite/sobjects`, (req, res) => {
    const { allOrNone, records } = parseCollection(req.body);
    const wc = writeContext(ctx, req, res);
    const ids = records.map((r) => (typeof r.id === 'string' ? r.id : typeof r.Id === 'string' ? r.Id : undefined));
    const results = applyAll(ctx, allOrNone, records.length, (txn, i) => {
      const record = records[i] ?? {};
      const type = typeOf(record);
      const id = ids[i];
      if (!type) return failure('INVALID_TYPE', 'Must specify a type in the attributes of each record');
      if (id === undefined) return failure('MALFORMED_ID', 'Id not specified in an update call', ['Id']);
      const { attributes: _attributes, id: _id, Id: _Id, ...input } = record;
      return updateRecord(txn, type, id, input, wc);
    });
    respond(res, results, ids, false);
  });

  app.patch(`${API}/composite/sobjects/:type/:field`, (req, res) => {
    respond(res, upsertCollection(ctx, req, res), [], true);
  });
}

/** Retrieve by ids, from the query string or a body. */
function registerCollectionReadRoutes(app: Express, ctx: SandboxContext): void {
  const { store } = ctx;

  const retrieve = (req: Request, res: Response, ids: string[], fieldsRaw: string) => {
    const schema = store.schemaFor(sessionOf(res).userId);
    const obj = schema.object(String(req.params.type));
    if (!obj) throw notFound();
    if (ids.length > 2000) throw httpError(400, 'EXCEEDED_ID_LIMIT', 'too many ids: at most 2000 per retrieve');
    const fields = fieldList(schema, obj, fieldsRaw);
    res.json(
      ids.map((raw) => {
        const id = toId18(raw);
        const record = id === null ? undefined : store.get(obj.name, id);
        return record && record.IsDeleted !== true ? recordBody(obj, record, urlBase(req), fields) : null;
      }),
    );
  };

  app.get(`${API}/composite/sobjects/:type`, (req, res) => {
    const ids = (queryParam(req, 'ids') ?? '').split(',').filter(Boolean);
    const fieldsRaw = queryParam(req, 'fields') ?? '';
    if (ids.length === 0 || fieldsRaw === '') throw httpError(400, 'MISSING_ARGUMENT', 'ids and fields are required');
    retrieve(req, res, ids, fieldsRaw);
  });

  app.post(`${API}/composite/sobjects/:type`, (req, res) => {
    const parsed = retrieveSchema.safeParse(req.body);
    if (!parsed.success)
      throw httpError(400, 'JSON_PARSER_ERROR', `Invalid retrieve request: ${parsed.error.issues[0]?.message ?? 'malformed body'}`);
    retrieve(req, res, parsed.data.ids, parsed.data.fields.join(','));
  });
}

/** Delete by ids. */
function registerCollectionDeleteRoute(app: Express, ctx: SandboxContext): void {
  const { store } = ctx;
  app.delete(`${API}/composite/sobjects`, (req, res) => {
    const ids = (queryParam(req, 'ids') ?? '').split(',').filter(Boolean);
    if (ids.length === 0) throw httpError(400, 'MISSING_ARGUMENT', 'ids is required');
    if (ids.length > MAX_COLLECTION_SIZE) throw tooManyRecords();
    const wc = writeContext(ctx, req, res);
    const results = applyAll(ctx, req.query.allOrNone === 'true', ids.length, (txn, i) => {
      const raw = ids[i] ?? '';
      const id = toId18(raw);
      const owner =
        id === null
          ? undefined
          : store.find(
              id,
              store.schema.list().map((o) => o.name),
            );
      if (id === null) return failure('MALFORMED_ID', `malformed id ${raw}`);
      // Salesforce answers an id it cannot find (e.g. already purged) as deleted.
      if (!owner) return failure('ENTITY_IS_DELETED', 'entity is deleted');
      return deleteRecord(txn, owner.type, raw, wc);
    });
    res.json(
      results.map((r, i) =>
        r.ok ? { id: r.id, success: true, errors: [] } : { id: ids[i], success: false, errors: collectionErrors(r.errors) },
      ),
    );
  });
}
