import { z } from 'zod';
import { validationError } from './errors.ts';

/** zod schemas of the request bodies the CRM endpoints accept (shapes of the generated models). */

const id = z.union([z.string().min(1), z.number()]).transform(String);
export const propertyValues = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

export const associationSpec = z.object({
  associationCategory: z.enum(['HUBSPOT_DEFINED', 'USER_DEFINED', 'INTEGRATOR_DEFINED']),
  associationTypeId: z.number().int(),
});

const associationForCreate = z.object({ to: z.object({ id }), types: z.array(associationSpec).min(1) });

export const createBody = z.object({
  properties: propertyValues,
  associations: z.array(associationForCreate).optional(),
  objectWriteTraceId: z.string().optional(),
});

export const updateBody = z.object({ properties: propertyValues, objectWriteTraceId: z.string().optional() });

export const batchCreateBody = z.object({ inputs: z.array(createBody) });

const batchWriteInput = z.object({
  id,
  idProperty: z.string().optional(),
  properties: propertyValues,
  objectWriteTraceId: z.string().optional(),
});

export const batchUpdateBody = z.object({ inputs: z.array(batchWriteInput) });
export const batchUpsertBody = z.object({ inputs: z.array(batchWriteInput) });

export const batchReadBody = z.object({
  inputs: z.array(z.object({ id })),
  properties: z.array(z.string()).optional(),
  propertiesWithHistory: z.array(z.string()).optional(),
  idProperty: z.string().optional(),
});

export const batchIdsBody = z.object({ inputs: z.array(z.object({ id })) });

/** `POST /crm/v3/objects/{objectType}/merge` (PublicMergeInput). */
export const mergeBody = z.object({ primaryObjectId: id, objectIdToMerge: id });

export const gdprDeleteBody = z.object({ objectId: id, idProperty: z.string().optional() });

const filterValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const searchBody = z.object({
  filterGroups: z
    .array(
      z.object({
        filters: z.array(
          z.object({
            propertyName: z.string().min(1),
            operator: z.enum([
              'EQ',
              'NEQ',
              'LT',
              'LTE',
              'GT',
              'GTE',
              'BETWEEN',
              'IN',
              'NOT_IN',
              'HAS_PROPERTY',
              'NOT_HAS_PROPERTY',
              'CONTAINS_TOKEN',
              'NOT_CONTAINS_TOKEN',
            ]),
            value: filterValue.optional(),
            highValue: filterValue.optional(),
            values: z.array(filterValue).optional(),
          }),
        ),
      }),
    )
    .optional(),
  // `{ propertyName, direction: 'ASCENDING' | 'DESCENDING' }` as the CRM search guide documents it
  // (https://developers.hubspot.com/docs/api-reference/legacy/crm/search-the-crm), or a property
  // name, `-name` for descending, as @hubspot/api-client's README shows ("CRM Search"). Only the
  // first sort is applied ("only one sort parameter is supported", ibid.). Without a direction the
  // sandbox sorts ascending, as for a bare name.
  sorts: z
    .array(z.union([z.string(), z.object({ propertyName: z.string(), direction: z.enum(['ASCENDING', 'DESCENDING']).optional() })]))
    .optional(),
  query: z.string().max(3000).optional(),
  properties: z.array(z.string()).optional(),
  limit: z.number().int().min(0).max(200).optional(),
  after: z.union([z.string(), z.number()]).transform(String).optional(),
});

export type SearchBody = z.output<typeof searchBody>;

/** Largest number of inputs a CRM batch endpoint accepts. */
export const MAX_BATCH_INPUTS = 100;

/** Largest number of inputs of a batch read that asks for property history. */
export const MAX_HISTORY_BATCH_INPUTS = 50;

/** Refuses a history batch read above 50 inputs as HubSpot does (docs/reference/hubspot-api.md §5.4). */
export function checkHistoryBatchSize(count: number, withHistory: boolean): void {
  if (!withHistory || count <= MAX_HISTORY_BATCH_INPUTS) return;
  throw validationError(
    `The maximum number of inputs supported in a batch request for property histories is ${MAX_HISTORY_BATCH_INPUTS}. Please reduce the number of items and try again`,
  );
}

/** Refuses a batch above 100 inputs with a 400 VALIDATION_ERROR. */
export function checkBatchSize(count: number): void {
  if (count <= MAX_BATCH_INPUTS) return;
  throw validationError(
    `Too many inputs: ${count}. The maximum batch size is ${MAX_BATCH_INPUTS}.`,
    [{ message: `inputs size must be between 0 and ${MAX_BATCH_INPUTS}`, code: 'TOO_MANY_INPUTS', in: 'inputs' }],
    { context: { maxBatchSize: [String(MAX_BATCH_INPUTS)] } },
  );
}
