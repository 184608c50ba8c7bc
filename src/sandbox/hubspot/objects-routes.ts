import { Router } from 'express';
import type { Request, Response } from 'express';
import { originOf } from './auth.ts';
import { API_WRITE } from './crm-service.ts';
import type { CrmService } from './crm-service.ts';
import { HubSpotError, batchError, errorBody, objectNotFound } from './errors.ts';
import { param, parseBody, queryBool, queryInt, queryList, queryString } from './http-kit.ts';
import type { CrmRecord, ObjectTypeName } from './model.ts';
import { OBJECT_TYPES, resolveObjectType } from './object-types.ts';
import {
  batchCreateBody,
  batchIdsBody,
  batchReadBody,
  batchUpdateBody,
  batchUpsertBody,
  checkBatchSize,
  checkHistoryBatchSize,
  createBody,
  gdprDeleteBody,
  mergeBody,
  updateBody,
} from './schemas.ts';
import type { SandboxStore } from './store.ts';
import { batchEnvelope, toApiObject } from './views.ts';
import type { ViewOptions } from './views.ts';

/** The object type of `:objectType`, or HubSpot's 400 for an unknown one. */
export function objectTypeParam(req: Request, name = 'objectType'): ObjectTypeName {
  const raw = param(req, name);
  const type = resolveObjectType(raw);
  if (type === undefined) {
    throw new HubSpotError(400, errorBody('VALIDATION_ERROR', `Unable to infer object type from: ${raw}`));
  }
  return type;
}

function associationTypes(req: Request): ObjectTypeName[] | undefined {
  return queryList(req, 'associations')
    ?.map((raw) => resolveObjectType(raw))
    .filter((type): type is ObjectTypeName => type !== undefined);
}

function notFoundInBatch(type: ObjectTypeName, ids: string[]): Record<string, unknown> {
  return batchError(
    'OBJECT_NOT_FOUND',
    `Could not get some ${OBJECT_TYPES[type].label} objects, they may be deleted or not exist. Check that ids are valid.`,
    { ids },
  );
}

/** The view options a single or list read takes from its query string. */
function queryViewOptions(req: Request): ViewOptions {
  return {
    properties: queryList(req, 'properties'),
    propertiesWithHistory: queryList(req, 'propertiesWithHistory'),
    associations: associationTypes(req),
  };
}

/** A batch answer: 207 with the not-found ids when some were missing, 200 otherwise. */
function sendBatch(
  res: Response,
  type: ObjectTypeName,
  results: unknown[],
  missing: string[],
  startedAt: number,
  finishedAt: number,
): void {
  const errors = missing.length > 0 ? [notFoundInBatch(type, missing)] : [];
  res.status(errors.length > 0 ? 207 : 200).json(batchEnvelope(results, errors, startedAt, finishedAt));
}

/** What the objects endpoints share: the CRM, the clock and the record view. */
interface ObjectsContext {
  crm: CrmService;
  now: () => number;
  view: (type: ObjectTypeName, record: CrmRecord, options: ViewOptions) => ReturnType<typeof toApiObject>;
}

/** CRM v3 objects API for contacts, companies, deals and notes: basic, batch and GDPR endpoints. */
export function objectsRouter(store: SandboxStore, crm: CrmService, now: () => number): Router {
  const router = Router();
  const view = (type: ObjectTypeName, record: CrmRecord, options: ViewOptions) =>
    toApiObject(type, record, options, { catalog: store.properties[type], associations: store.associations });
  const context: ObjectsContext = { crm, now, view };
  registerBasicRoutes(router, context);
  registerBatchRoutes(router, context);
  registerMergeAndGdprRoutes(router, context);
  return router;
}

/** List, read, create, update and archive one object. */
function registerBasicRoutes(router: Router, { crm, view }: ObjectsContext): void {
  router.get('/crm/v3/objects/:objectType', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const limit = queryInt(req, 'limit', 10, 1, 100);
    const options = queryViewOptions(req);
    const results: unknown[] = [];
    let nextAfter: string | undefined;
    for (const record of crm.table(type).scan(queryString(req, 'after'), queryBool(req, 'archived'))) {
      if (results.length === limit) {
        nextAfter = record.id;
        break;
      }
      results.push(view(type, record, options));
    }
    const body: Record<string, unknown> = { results };
    if (nextAfter !== undefined) {
      body.paging = { next: { after: nextAfter, link: `/crm/v3/objects/${type}?after=${nextAfter}&limit=${limit}` } };
    }
    res.json(body);
  });

  router.get('/crm/v3/objects/:objectType/:objectId', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const id = param(req, 'objectId');
    const record = crm.find(type, id, { idProperty: queryString(req, 'idProperty'), archived: queryBool(req, 'archived') });
    if (record === undefined) throw objectNotFound(id);
    res.json(view(type, record, queryViewOptions(req)));
  });

  router.post('/crm/v3/objects/:objectType', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const input = parseBody(createBody, req.body);
    const [record] = crm.createMany(type, [input], originOf(res), API_WRITE);
    if (record === undefined) throw new Error('create returned nothing');
    res.status(201).json(view(type, record, { properties: Object.keys(input.properties) }));
  });

  router.patch('/crm/v3/objects/:objectType/:objectId', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const id = param(req, 'objectId');
    const input = parseBody(updateBody, req.body);
    const record = crm.find(type, id, { idProperty: queryString(req, 'idProperty') });
    if (record === undefined) throw objectNotFound(id);
    crm.updateMany(type, [{ record, properties: input.properties }], originOf(res), API_WRITE);
    res.json(view(type, record, { properties: Object.keys(input.properties) }));
  });

  router.delete('/crm/v3/objects/:objectType/:objectId', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const record = crm.find(type, param(req, 'objectId'));
    if (record !== undefined) crm.archive(type, record, originOf(res));
    res.status(204).end();
  });
}

/** The batch endpoints: read, create, update, upsert and archive up to 100 objects. */
function registerBatchRoutes(router: Router, { crm, now, view }: ObjectsContext): void {
  router.post('/crm/v3/objects/:objectType/batch/read', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const input = parseBody(batchReadBody, req.body);
    checkBatchSize(input.inputs.length);
    checkHistoryBatchSize(input.inputs.length, (input.propertiesWithHistory ?? []).length > 0);
    const startedAt = now();
    const archived = queryBool(req, 'archived');
    const results: unknown[] = [];
    const missing: string[] = [];
    for (const { id } of input.inputs) {
      const record = crm.find(type, id, { idProperty: input.idProperty, archived });
      if (record === undefined) missing.push(id);
      else results.push(view(type, record, { properties: input.properties, propertiesWithHistory: input.propertiesWithHistory }));
    }
    sendBatch(res, type, results, missing, startedAt, now());
  });

  router.post('/crm/v3/objects/:objectType/batch/create', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const input = parseBody(batchCreateBody, req.body);
    checkBatchSize(input.inputs.length);
    const startedAt = now();
    const records = crm.createMany(type, input.inputs, originOf(res), API_WRITE);
    const results = records.map((record, index) => view(type, record, { properties: Object.keys(input.inputs[index]?.properties ?? {}) }));
    res.status(201).json(batchEnvelope(results, [], startedAt, now()));
  });

  router.post('/crm/v3/objects/:objectType/batch/update', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const input = parseBody(batchUpdateBody, req.body);
    checkBatchSize(input.inputs.length);
    const startedAt = now();
    const missing: string[] = [];
    const updates = input.inputs.flatMap((item) => {
      const record = crm.find(type, item.id, { idProperty: item.idProperty });
      if (record === undefined) missing.push(item.id);
      return record === undefined ? [] : [{ record, properties: item.properties }];
    });
    const records = crm.updateMany(type, updates, originOf(res), API_WRITE);
    const results = records.map((record, index) => view(type, record, { properties: Object.keys(updates[index]?.properties ?? {}) }));
    sendBatch(res, type, results, missing, startedAt, now());
  });

  router.post('/crm/v3/objects/:objectType/batch/upsert', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const input = parseBody(batchUpsertBody, req.body);
    checkBatchSize(input.inputs.length);
    const startedAt = now();
    const upserts = input.inputs.map((item) => ({
      id: item.id,
      idProperty: item.idProperty ?? 'hs_object_id',
      properties: item.properties,
    }));
    const outcomes = crm.upsertMany(type, upserts, originOf(res), API_WRITE);
    const results = outcomes.map(({ record, created }, index) => ({
      ...view(type, record, {
        properties: [...Object.keys(upserts[index]?.properties ?? {}), upserts[index]?.idProperty ?? 'hs_object_id'],
      }),
      new: created,
    }));
    res.json(batchEnvelope(results, [], startedAt, now()));
  });

  router.post('/crm/v3/objects/:objectType/batch/archive', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const input = parseBody(batchIdsBody, req.body);
    checkBatchSize(input.inputs.length);
    for (const { id } of input.inputs) {
      const record = crm.find(type, id);
      if (record !== undefined) crm.archive(type, record, originOf(res));
    }
    res.status(204).end();
  });
}

/** Merging two records and the GDPR purge. */
function registerMergeAndGdprRoutes(router: Router, { crm, view }: ObjectsContext): void {
  // Merge (PublicMergeInput → SimplePublicObject): the record the merge made, under its new id.
  router.post('/crm/v3/objects/:objectType/merge', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    if (type !== 'contacts' && type !== 'companies')
      throw new HubSpotError(400, errorBody('VALIDATION_ERROR', `Merging ${type} is not supported here`));
    const input = parseBody(mergeBody, req.body);
    const primary = crm.table(type).get(input.primaryObjectId);
    const secondary = crm.table(type).get(input.objectIdToMerge);
    if (primary === undefined || primary.archived) throw objectNotFound(input.primaryObjectId);
    if (secondary === undefined || secondary.archived) throw objectNotFound(input.objectIdToMerge);
    const record = crm.merge(type, primary, secondary, originOf(res));
    res.json(view(type, record, {}));
  });

  router.post('/crm/v3/objects/:objectType/gdpr-delete', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const input = parseBody(gdprDeleteBody, req.body);
    const record = crm.find(type, input.objectId, { idProperty: input.idProperty }) ?? crm.find(type, input.objectId, { archived: true });
    if (record === undefined) throw objectNotFound(input.objectId);
    crm.purge(type, record, originOf(res));
    res.status(204).end();
  });
}
