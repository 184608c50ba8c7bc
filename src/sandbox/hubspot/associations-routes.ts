import { Router } from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { CrmService } from './crm-service.ts';
import { batchError, objectNotFound, validationError } from './errors.ts';
import { param, parseBody, queryInt, queryString } from './http-kit.ts';
import type { ObjectTypeName } from './model.ts';
import { ASSOCIATION_TYPES, OBJECT_TYPES, associationType, defaultAssociationType } from './object-types.ts';
import { objectTypeParam } from './objects-routes.ts';
import { associationSpec, checkBatchSize } from './schemas.ts';
import type { SandboxStore } from './store.ts';
import { batchEnvelope } from './views.ts';

const id = z.union([z.string().min(1), z.number()]).transform(String);
const objectId = z.object({ id });
const specsBody = z.array(associationSpec).min(1);
const batchCreateBody = z.object({ inputs: z.array(z.object({ from: objectId, to: objectId, types: z.array(associationSpec).min(1) })) });
const batchDefaultBody = z.object({ inputs: z.array(z.object({ from: objectId, to: objectId })) });
const batchReadBody = z.object({ inputs: z.array(z.object({ id, after: z.string().optional() })) });
const batchArchiveBody = z.object({ inputs: z.array(z.object({ from: objectId, to: z.array(objectId) })) });

const typeView = (typeId: number) => {
  const info = associationType(typeId);
  return { category: 'HUBSPOT_DEFINED', typeId, label: info?.label ?? null };
};

/** CRM v4 associations: note↔contact, deal↔contact, contact↔company (and the other HubSpot-defined pairs). */
export function associationsRouter(store: SandboxStore, crm: CrmService, now: () => number): Router {
  const router = Router();
  const context: AssociationsContext = { store, crm, now, ...associationOps(store, crm) };
  registerRecordAssociationRoutes(router, context);
  registerBatchAssociationRoutes(router, context);
  return router;
}

/** Linking two records, with the checks the real API makes first. */
function associationOps(store: SandboxStore, crm: CrmService) {
  const requireRecord = (type: ObjectTypeName, recordId: string): void => {
    if (crm.find(type, recordId) === undefined) throw objectNotFound(recordId);
  };

  const checkTypes = (from: ObjectTypeName, to: ObjectTypeName, typeIds: readonly number[]): void => {
    const wrong = typeIds.filter((typeId) => {
      const info = associationType(typeId);
      return info === undefined || info.from !== from || info.to !== to;
    });
    if (wrong.length > 0) {
      throw validationError(
        `association type id(s) ${wrong.join(', ')} do not link ${OBJECT_TYPES[from].singular} to ${OBJECT_TYPES[to].singular}`,
        [{ message: 'invalid associationTypeId', code: 'INVALID_ASSOCIATION_TYPE', in: 'associationTypeId' }],
      );
    }
  };

  const associate = (from: ObjectTypeName, fromId: string, to: ObjectTypeName, toId: string, typeIds: number[]) => {
    requireRecord(from, fromId);
    requireRecord(to, toId);
    checkTypes(from, to, typeIds);
    // HubSpot keeps the unlabeled association alongside any label.
    const unlabeled = defaultAssociationType(from, to);
    const all = unlabeled === undefined ? typeIds : [...new Set([unlabeled.id, ...typeIds])];
    const linked = store.associations.add(from, fromId, to, toId, all);
    return {
      fromObjectTypeId: OBJECT_TYPES[from].typeId,
      fromObjectId: Number(fromId),
      toObjectTypeId: OBJECT_TYPES[to].typeId,
      toObjectId: Number(toId),
      labels: linked.map((typeId) => associationType(typeId)?.label).filter((label): label is string => typeof label === 'string'),
    };
  };

  const associateDefault = (from: ObjectTypeName, fromId: string, to: ObjectTypeName, toId: string) => {
    const type = defaultAssociationType(from, to);
    if (type === undefined) {
      throw validationError(`${OBJECT_TYPES[from].singular} cannot be associated with ${OBJECT_TYPES[to].singular}`);
    }
    associate(from, fromId, to, toId, [type.id]);
    return {
      from: { id: fromId },
      to: { id: toId },
      associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: type.id },
    };
  };

  return { requireRecord, associate, associateDefault };
}

/** What the association endpoints share. */
type AssociationsContext = { store: SandboxStore; crm: CrmService; now: () => number } & ReturnType<typeof associationOps>;

/** One record's associations: create (default or labelled), list and remove. */
function registerRecordAssociationRoutes(
  router: Router,
  { store, now, requireRecord, associate, associateDefault }: AssociationsContext,
): void {
  router.put('/crm/v4/objects/:objectType/:objectId/associations/default/:toObjectType/:toObjectId', (req: Request, res: Response) => {
    const startedAt = now();
    const result = associateDefault(
      objectTypeParam(req),
      param(req, 'objectId'),
      objectTypeParam(req, 'toObjectType'),
      param(req, 'toObjectId'),
    );
    res.json(batchEnvelope([result], [], startedAt, now()));
  });

  router.put('/crm/v4/objects/:objectType/:objectId/associations/:toObjectType/:toObjectId', (req: Request, res: Response) => {
    const specs = parseBody(specsBody, req.body);
    const from = objectTypeParam(req);
    const to = objectTypeParam(req, 'toObjectType');
    const ids = specs.map((spec) => spec.associationTypeId);
    res.status(201).json(associate(from, param(req, 'objectId'), to, param(req, 'toObjectId'), ids));
  });

  router.get('/crm/v4/objects/:objectType/:objectId/associations/:toObjectType', (req: Request, res: Response) => {
    const from = objectTypeParam(req);
    const to = objectTypeParam(req, 'toObjectType');
    const fromId = param(req, 'objectId');
    requireRecord(from, fromId);
    const limit = queryInt(req, 'limit', 500, 1, 500);
    const all = store.associations.list(from, fromId, to);
    const start = Math.max(0, Number(queryString(req, 'after') ?? 0) || 0);
    const page = all.slice(start, start + limit);
    const body: Record<string, unknown> = {
      results: page.map(({ toId, typeIds }) => ({ toObjectId: Number(toId), associationTypes: typeIds.map(typeView) })),
    };
    if (start + limit < all.length) body.paging = { next: { after: String(start + limit) } };
    res.json(body);
  });

  router.delete('/crm/v4/objects/:objectType/:objectId/associations/:toObjectType/:toObjectId', (req: Request, res: Response) => {
    store.associations.remove(objectTypeParam(req), param(req, 'objectId'), objectTypeParam(req, 'toObjectType'), param(req, 'toObjectId'));
    res.status(204).end();
  });
}

/** The association labels of a pair of types and the batch endpoints. */
function registerBatchAssociationRoutes(router: Router, context: AssociationsContext): void {
  const { store, now, associate, associateDefault } = context;
  router.get('/crm/v4/associations/:fromObjectType/:toObjectType/labels', (req: Request, res: Response) => {
    const from = objectTypeParam(req, 'fromObjectType');
    const to = objectTypeParam(req, 'toObjectType');
    res.json({ results: ASSOCIATION_TYPES.filter((type) => type.from === from && type.to === to).map((type) => typeView(type.id)) });
  });

  router.post('/crm/v4/associations/:fromObjectType/:toObjectType/batch/create', (req: Request, res: Response) => {
    const from = objectTypeParam(req, 'fromObjectType');
    const to = objectTypeParam(req, 'toObjectType');
    const { inputs } = parseBody(batchCreateBody, req.body);
    checkBatchSize(inputs.length);
    const startedAt = now();
    const results = inputs.map((input) =>
      associate(
        from,
        input.from.id,
        to,
        input.to.id,
        input.types.map((spec) => spec.associationTypeId),
      ),
    );
    res.status(201).json(batchEnvelope(results, [], startedAt, now()));
  });

  router.post('/crm/v4/associations/:fromObjectType/:toObjectType/batch/associate/default', (req: Request, res: Response) => {
    const from = objectTypeParam(req, 'fromObjectType');
    const to = objectTypeParam(req, 'toObjectType');
    const { inputs } = parseBody(batchDefaultBody, req.body);
    checkBatchSize(inputs.length);
    const startedAt = now();
    const results = inputs.map((input) => associateDefault(from, input.from.id, to, input.to.id));
    res.json(batchEnvelope(results, [], startedAt, now()));
  });

  router.post('/crm/v4/associations/:fromObjectType/:toObjectType/batch/read', (req: Request, res: Response) => {
    const from = objectTypeParam(req, 'fromObjectType');
    const to = objectTypeParam(req, 'toObjectType');
    const { inputs } = parseBody(batchReadBody, req.body);
    checkBatchSize(inputs.length);
    const startedAt = now();
    const { results, errors } = readAssociations(context, from, to, inputs);
    res.status(errors.length > 0 ? 207 : 200).json(batchEnvelope(results, errors, startedAt, now()));
  });

  router.post('/crm/v4/associations/:fromObjectType/:toObjectType/batch/archive', (req: Request, res: Response) => {
    const from = objectTypeParam(req, 'fromObjectType');
    const to = objectTypeParam(req, 'toObjectType');
    const { inputs } = parseBody(batchArchiveBody, req.body);
    checkBatchSize(inputs.length);
    for (const input of inputs) for (const target of input.to) store.associations.remove(from, input.from.id, to, target.id);
    res.status(204).end();
  });
}

/** A batch read's found associations, and one error per missing record or record without any. */
function readAssociations(
  { store, crm }: AssociationsContext,
  from: ObjectTypeName,
  to: ObjectTypeName,
  inputs: readonly { id: string }[],
): { results: unknown[]; errors: unknown[] } {
  const missing = inputs.filter((input) => crm.find(from, input.id) === undefined).map((input) => input.id);
  const found = inputs
    .filter((input) => !missing.includes(input.id))
    .map((input) => ({
      from: { id: input.id },
      to: store.associations
        .list(from, input.id, to)
        .map(({ toId, typeIds }) => ({ toObjectId: Number(toId), associationTypes: typeIds.map(typeView) })),
    }));
  // A record with no association of the asked type is not a result but an error of its own:
  // OBJECT_NOT_FOUND / crm.associations.NO_ASSOCIATIONS_FOUND, "No company is associated with
  // contact 1.", answered 207 (responses of the real API quoted in integrations that read
  // associations in batch, e.g. "No company is associated with deal 515690208449.").
  const results = found.filter((r) => r.to.length > 0);
  const none = found
    .filter((r) => r.to.length === 0)
    .map((r) =>
      batchError(
        'OBJECT_NOT_FOUND',
        `No ${OBJECT_TYPES[to].singular} is associated with ${OBJECT_TYPES[from].singular} ${r.from.id}.`,
        { fromObjectId: [r.from.id], fromObjectType: [OBJECT_TYPES[from].singular], toObjectType: [OBJECT_TYPES[to].singular] },
        'crm.associations.NO_ASSOCIATIONS_FOUND',
      ),
    );
  const errors = [
    ...(missing.length === 0
      ? []
      : [batchError('OBJECT_NOT_FOUND', `No ${OBJECT_TYPES[from].label} with ID(s) ${missing.join(', ')} exist`, { fromIds: missing })]),
    ...none,
  ];
  return { results, errors };
}
