/**
 * REST resources under `/services/data/vXX.X`: versions, resources, limits, describe, record CRUD,
 * upsert by external id, and the replication resources (`updated`, `deleted`).
 */
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { describedFor as campaignDescribedFor } from './campaign-rules.ts';
import { currencyDescribedFor } from './currency-admin.ts';
import { queryParam, sessionOf, versionOf, writeContext, MAX_API_VERSION, MIN_API_VERSION, type SandboxContext } from './context.ts';
import { describeGlobal, describeObject, objectSummary } from './describe.ts';
import { httpError, notFound, SfHttpError, statusForRecordErrors } from './errors.ts';
import { toId18 } from './ids.ts';
import { fieldList, recordBody } from './record-json.ts';
import { createRecord, deleteRecord, updateRecord, upsertRecord, type UpsertResult, type WriteResult } from './records.ts';
import { parseDateTime } from './sf-time.ts';
import type { OrgStore, Txn } from './state-store.ts';
import type { OrgSchema } from './schema.ts';
import type { FieldDef, ObjectDef } from './types.ts';

export const API = '/services/data/:version';

/** Describe as a user sees it: marketing objects and CurrencyType read-only to those who may not edit them. */
const describedFor = (store: OrgStore, userId: string, obj: ObjectDef): ObjectDef =>
  currencyDescribedFor(store, userId, campaignDescribedFor(store, userId, obj));

const recordInputSchema = z.record(z.string(), z.unknown());

/** Parses a JSON object body with zod; JSON_PARSER_ERROR for anything else. */
export function parseRecordInput(body: unknown): Record<string, unknown> {
  const parsed = recordInputSchema.safeParse(body ?? {});
  if (!parsed.success)
    throw httpError(400, 'JSON_PARSER_ERROR', 'Cannot deserialize instance of sObject from a value that is not a JSON object');
  return parsed.data;
}

/** Runs one write in its own transaction: committed on success, rolled back otherwise. */
export function runWrite<R extends UpsertResult>(ctx: SandboxContext, write: (txn: Txn) => R): R {
  const txn = ctx.store.txn();
  const result = write(txn);
  if (result.ok) txn.commit();
  else txn.rollback();
  return result;
}

export function urlBase(req: Request): string {
  return `/services/data/v${versionOf(req)}`;
}

/** The org's metadata as the request's user sees it (field-level security). */
function schemaOf(ctx: SandboxContext, res: Response): OrgSchema {
  return ctx.store.schemaFor(sessionOf(res).userId);
}

function objectOf(ctx: SandboxContext, req: Request, res: Response): ObjectDef {
  const obj = schemaOf(ctx, res).object(String(req.params.type));
  if (!obj) throw notFound();
  return obj;
}

/** 404 for a field name that is not an External ID field (nor Id) of the object. */
function externalIdFieldMissing(name: string): SfHttpError {
  return httpError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${name}`);
}

/** The field a lookup or upsert by external id names: an External ID field or Id, else NOT_FOUND. */
export function externalIdField(schema: OrgSchema, objectName: string, name: string): FieldDef {
  const field = schema.field(objectName, name);
  if (!field || !(field.externalId || field.name === 'Id')) throw externalIdFieldMissing(name);
  return field;
}

/** A path segment that is not an id reads as an external id field name, which the object lacks. */
function requireIdSegment(req: Request): string {
  const raw = String(req.params.id);
  if (toId18(raw) === null) throw externalIdFieldMissing(raw);
  return raw;
}

function throwIfFailed(result: WriteResult): asserts result is Extract<WriteResult, { ok: true }> {
  if (!result.ok) throw new SfHttpError(statusForRecordErrors(result.errors), result.errors);
}

function versionsBody(): Array<{ label: string; url: string; version: string }> {
  const list = [];
  for (let major = MIN_API_VERSION + 11; major <= MAX_API_VERSION - 4; major++) {
    list.push({ label: `API ${major}.0`, url: `/services/data/v${major}.0`, version: `${major}.0` });
  }
  return list;
}

function resourcesBody(ctx: SandboxContext, req: Request, res: Response): Record<string, string> {
  const base = urlBase(req);
  const names = ['tooling', 'metadata', 'sobjects', 'query', 'queryAll', 'limits', 'composite', 'recent', 'search'];
  return { ...Object.fromEntries(names.map((n) => [n, `${base}/${n}`])), identity: ctx.tokens.identityUrl(sessionOf(res).userId) };
}

function replicationWindow(req: Request): { start: number; end: number } {
  const start = parseDateTime(queryParam(req, 'start') ?? '');
  const end = parseDateTime(queryParam(req, 'end') ?? '');
  if (start === null || end === null || end < start)
    throw httpError(400, 'INVALID_REPLICATION_DATE', 'start and end must be valid datetimes with start before end');
  return { start, end };
}

/** Whether a record's SystemModstamp falls inside a replication window (both ends included). */
function modifiedWithin(record: Record<string, unknown>, { start, end }: { start: number; end: number }): boolean {
  const stamp = parseDateTime(String(record.SystemModstamp)) ?? 0;
  return stamp >= start && stamp <= end;
}

/** 300 Multiple Choices: the URL of each record an external id matched. */
function sendMultipleChoices(req: Request, res: Response, objectName: string, ids: readonly string[]): void {
  res.status(300).json(ids.map((id) => `${urlBase(req)}/sobjects/${objectName}/${id}`));
}

/** The REST resources, registered in the order Express must try them. */
export function registerRestRoutes(app: Express, ctx: SandboxContext): void {
  registerDiscoveryRoutes(app, ctx);
  registerReplicationRoutes(app, ctx);
  registerRecordRoutes(app, ctx);
  registerExternalIdRoutes(app, ctx);
}

/** Versions, resources, limits and describe. */
function registerDiscoveryRoutes(app: Express, ctx: SandboxContext): void {
  const { store } = ctx;
  app.get('/services/data', (_req, res) => {
    res.json(versionsBody());
  });
  app.get(API, (req, res) => {
    res.json(resourcesBody(ctx, req, res));
  });
  app.get(`${API}/limits`, (_req, res) => {
    res.json(ctx.usage.limitsBody());
  });
  app.get(`${API}/sobjects`, (req, res) => {
    const userId = sessionOf(res).userId;
    res.json(
      describeGlobal(
        schemaOf(ctx, res)
          .list()
          .map((o) => describedFor(store, userId, o)),
        urlBase(req),
      ),
    );
  });
  app.get(`${API}/sobjects/:type`, (req, res) => {
    res.json({
      objectDescribe: objectSummary(describedFor(store, sessionOf(res).userId, objectOf(ctx, req, res)), urlBase(req)),
      recentItems: [],
    });
  });
  app.get(`${API}/sobjects/:type/describe`, (req, res) => {
    res.json(describeObject(describedFor(store, sessionOf(res).userId, objectOf(ctx, req, res)), urlBase(req), schemaOf(ctx, res).list()));
  });
}

/** The replication resources: ids updated and records deleted in a window. */
function registerReplicationRoutes(app: Express, ctx: SandboxContext): void {
  const { store } = ctx;
  app.get(`${API}/sobjects/:type/updated`, (req, res) => {
    const obj = objectOf(ctx, req, res);
    const window = replicationWindow(req);
    const ids = Object.values(store.table(obj.name))
      .filter((r) => !r.IsDeleted && modifiedWithin(r, window))
      .map((r) => r.Id);
    res.json({ ids, latestDateCovered: queryParam(req, 'end') });
  });
  app.get(`${API}/sobjects/:type/deleted`, (req, res) => {
    const obj = objectOf(ctx, req, res);
    const window = replicationWindow(req);
    const deletedRecords = Object.values(store.table(obj.name))
      .filter((r) => r.IsDeleted === true && modifiedWithin(r, window))
      .map((r) => ({ id: r.Id, deletedDate: r.SystemModstamp }));
    res.json({ deletedRecords, earliestDateAvailable: queryParam(req, 'start'), latestDateCovered: queryParam(req, 'end') });
  });
}

/** Record create, read, update and delete by id. */
function registerRecordRoutes(app: Express, ctx: SandboxContext): void {
  const { store } = ctx;
  app.post(`${API}/sobjects/:type`, (req, res) => {
    const obj = objectOf(ctx, req, res);
    const input = parseRecordInput(req.body);
    const result = runWrite(ctx, (txn) => createRecord(txn, obj.name, input, writeContext(ctx, req, res)));
    throwIfFailed(result);
    res
      .status(201)
      .location(`${urlBase(req)}/sobjects/${obj.name}/${result.id}`)
      .json({ id: result.id, success: true, errors: [] });
  });

  app.get(`${API}/sobjects/:type/:id`, (req, res) => {
    const obj = objectOf(ctx, req, res);
    const raw = String(req.params.id);
    const id = toId18(raw);
    const record = id === null ? undefined : store.get(obj.name, id);
    if (!record) throw id === null ? externalIdFieldMissing(raw) : httpError(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (record.IsDeleted === true) throw httpError(404, 'ENTITY_IS_DELETED', 'entity is deleted', []);
    res.json(recordBody(obj, record, urlBase(req), fieldList(schemaOf(ctx, res), obj, queryParam(req, 'fields'))));
  });

  app.patch(`${API}/sobjects/:type/:id`, (req, res) => {
    const obj = objectOf(ctx, req, res);
    const input = parseRecordInput(req.body);
    const id = requireIdSegment(req);
    const result = runWrite(ctx, (txn) => updateRecord(txn, obj.name, id, input, writeContext(ctx, req, res)));
    throwIfFailed(result);
    res.status(204).end();
  });

  app.delete(`${API}/sobjects/:type/:id`, (req, res) => {
    const obj = objectOf(ctx, req, res);
    const id = requireIdSegment(req);
    const result = runWrite(ctx, (txn) => deleteRecord(txn, obj.name, id, writeContext(ctx, req, res)));
    throwIfFailed(result);
    res.status(204).end();
  });

  // API 37.0+: POST /sobjects/{type}/Id creates a record (Id as an external id whose value is null).
  app.post(`${API}/sobjects/:type/:field`, (req, res) => {
    const obj = objectOf(ctx, req, res);
    if (String(req.params.field).toLowerCase() !== 'id')
      throw httpError(405, 'METHOD_NOT_ALLOWED', "HTTP Method 'POST' not allowed. Allowed are GET,PATCH,DELETE");
    const input = parseRecordInput(req.body);
    const result = runWrite(ctx, (txn) => createRecord(txn, obj.name, input, writeContext(ctx, req, res)));
    throwIfFailed(result);
    res.status(201).json({ id: result.id, success: true, errors: [], created: true });
  });
}

/** Read, delete and upsert by an external id field. */
function registerExternalIdRoutes(app: Express, ctx: SandboxContext): void {
  const { store } = ctx;
  const byExternalId = (req: Request, res: Response) => {
    const obj = objectOf(ctx, req, res);
    const field = externalIdField(schemaOf(ctx, res), obj.name, String(req.params.field));
    const value = String(req.params.value).toLowerCase();
    const matches = Object.values(store.table(obj.name)).filter((r) => !r.IsDeleted && String(r[field.name] ?? '').toLowerCase() === value);
    return { obj, matches };
  };

  /** The one record an external id value names; more than one is answered 300 here (undefined), none is a 404. */
  const oneByExternalId = (req: Request, res: Response) => {
    const { obj, matches } = byExternalId(req, res);
    if (matches.length > 1) {
      sendMultipleChoices(
        req,
        res,
        obj.name,
        matches.map((r) => String(r.Id)),
      );
      return undefined;
    }
    const record = matches[0];
    if (!record) throw notFound();
    return { obj, record };
  };

  app.get(`${API}/sobjects/:type/:field/:value`, (req, res) => {
    const found = oneByExternalId(req, res);
    if (!found) return;
    const { obj, record } = found;
    res.json(recordBody(obj, record, urlBase(req), fieldList(schemaOf(ctx, res), obj, queryParam(req, 'fields'))));
  });

  app.delete(`${API}/sobjects/:type/:field/:value`, (req, res) => {
    const found = oneByExternalId(req, res);
    if (!found) return;
    const { obj, record } = found;
    const result = runWrite(ctx, (txn) => deleteRecord(txn, obj.name, String(record.Id), writeContext(ctx, req, res)));
    throwIfFailed(result);
    res.status(204).end();
  });

  app.patch(`${API}/sobjects/:type/:field/:value`, (req, res) => {
    const obj = objectOf(ctx, req, res);
    const input = parseRecordInput(req.body);
    const field = String(req.params.field);
    const value = String(req.params.value);
    if (req.query.updateOnly === 'true' && byExternalId(req, res).matches.length === 0) throw notFound();
    const result = runWrite(ctx, (txn) => upsertRecord(txn, obj.name, field, value, input, writeContext(ctx, req, res)));
    if ('multiple' in result) {
      sendMultipleChoices(req, res, obj.name, result.multiple);
      return;
    }
    throwIfFailed(result);
    if (result.created) {
      res
        .status(201)
        .location(`${urlBase(req)}/sobjects/${obj.name}/${result.id}`)
        .json({ id: result.id, success: true, errors: [], created: true });
    } else if (Number(versionOf(req).split('.')[0]) >= 46) {
      // Since API 46.0 an upsert that updates answers 200 with the UpsertResult; before, 204.
      res.status(200).json({ id: result.id, success: true, errors: [], created: false });
    } else {
      res.status(204).end();
    }
  });
}
