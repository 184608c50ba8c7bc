import { Router } from 'express';
import type { Request, Response } from 'express';
import type { CrmService } from './crm-service.ts';
import { validationError } from './errors.ts';
import { parseBody } from './http-kit.ts';
import type { CrmRecord, ObjectTypeName, PropertyDefinition } from './model.ts';
import { OBJECT_TYPES } from './object-types.ts';
import { objectTypeParam } from './objects-routes.ts';
import { searchBody } from './schemas.ts';
import type { SearchBody } from './schemas.ts';
import type { SandboxStore } from './store.ts';
import { toApiObject } from './views.ts';

/** The search API never pages past the 10,000th result. */
export const SEARCH_RESULT_CAP = 10_000;
const MAX_GROUPS = 5;
const MAX_FILTERS_PER_GROUP = 10;
const MAX_FILTERS = 25;

type Filter = NonNullable<SearchBody['filterGroups']>[number]['filters'][number];
type Comparable = number | string;

/** A stored value in the order its property type sorts by (numbers and dates numerically). */
function comparable(definition: PropertyDefinition | undefined, value: string): Comparable {
  switch (definition?.type) {
    case 'number':
      return Number(value);
    case 'date':
    case 'datetime':
      return /^-?\d+$/.test(value) ? Number(value) : Date.parse(value);
    default:
      return value.toLowerCase();
  }
}

function tokens(value: string): string[] {
  return value
    .toLowerCase()
    .split(/[\s@.,;:_\-/]+/)
    .filter((token) => token !== '');
}

function containsToken(value: string, token: string): boolean {
  const lower = token.toLowerCase();
  if (lower.includes('*')) {
    const pattern = new RegExp(
      `^${lower
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    return pattern.test(value.toLowerCase()) || tokens(value).some((part) => pattern.test(part));
  }
  return value.toLowerCase() === lower || tokens(value).includes(lower);
}

function requireValue(filter: Filter, field: 'value' | 'highValue'): string {
  const value = filter[field];
  if (value === undefined) {
    throw validationError(`Filter on ${filter.propertyName} with operator ${filter.operator} needs a ${field}`, [
      { message: `${field} is required for ${filter.operator}`, code: 'INVALID_FILTER', in: 'filterGroups' },
    ]);
  }
  return value;
}

/** Compiles one filter into a predicate over records. */
function compileFilter(catalog: ReadonlyMap<string, PropertyDefinition>, filter: Filter): (record: CrmRecord) => boolean {
  const definition = catalog.get(filter.propertyName);
  if (definition === undefined) {
    throw validationError(`Property "${filter.propertyName}" does not exist`, [
      { message: `unknown property ${filter.propertyName}`, code: 'PROPERTY_DOESNT_EXIST', in: 'filterGroups' },
    ]);
  }
  const name = filter.propertyName;
  const of = (value: string): Comparable => comparable(definition, value);
  switch (filter.operator) {
    case 'HAS_PROPERTY':
      return (record) => record.properties[name] !== undefined;
    case 'NOT_HAS_PROPERTY':
      return (record) => record.properties[name] === undefined;
    case 'IN':
    case 'NOT_IN': {
      const wanted = new Set((filter.values ?? []).map((value) => of(value)));
      const inside = (record: CrmRecord) => {
        const value = record.properties[name];
        return value !== undefined && wanted.has(of(value));
      };
      return filter.operator === 'IN' ? inside : (record) => !inside(record);
    }
    case 'CONTAINS_TOKEN':
    case 'NOT_CONTAINS_TOKEN': {
      const token = requireValue(filter, 'value');
      const contains = (record: CrmRecord) => {
        const value = record.properties[name];
        return value !== undefined && containsToken(value, token);
      };
      return filter.operator === 'CONTAINS_TOKEN' ? contains : (record) => !contains(record);
    }
    case 'BETWEEN': {
      const low = of(requireValue(filter, 'value'));
      const high = of(requireValue(filter, 'highValue'));
      return (record) => {
        const value = record.properties[name];
        if (value === undefined) return false;
        const current = of(value);
        return current >= low && current <= high;
      };
    }
    default: {
      const target = of(requireValue(filter, 'value'));
      const test = {
        EQ: (a: Comparable) => a === target,
        NEQ: (a: Comparable) => a !== target,
        LT: (a: Comparable) => a < target,
        LTE: (a: Comparable) => a <= target,
        GT: (a: Comparable) => a > target,
        GTE: (a: Comparable) => a >= target,
      }[filter.operator];
      return (record) => {
        const value = record.properties[name];
        if (value === undefined) return filter.operator === 'NEQ';
        return test(of(value));
      };
    }
  }
}

function checkFilterLimits(groups: NonNullable<SearchBody['filterGroups']>): void {
  const total = groups.reduce((sum, group) => sum + group.filters.length, 0);
  if (groups.length > MAX_GROUPS || groups.some((group) => group.filters.length > MAX_FILTERS_PER_GROUP) || total > MAX_FILTERS) {
    throw validationError(
      `Too many filters: up to ${MAX_GROUPS} filterGroups with up to ${MAX_FILTERS_PER_GROUP} filters each, and ${MAX_FILTERS} filters in total, are allowed`,
      [{ message: `got ${groups.length} groups and ${total} filters`, code: 'TOO_MANY_FILTERS', in: 'filterGroups' }],
    );
  }
}

/** Runs a search over the live records of a type (a linear scan: fine up to ~100k records). */
export function runSearch(store: SandboxStore, crm: CrmService, type: ObjectTypeName, body: SearchBody): Record<string, unknown> {
  const catalog = store.properties[type];
  const groups = body.filterGroups ?? [];
  checkFilterLimits(groups);
  const compiled = groups.map((group) => group.filters.map((filter) => compileFilter(catalog, filter)));
  const query = body.query?.trim().toLowerCase();
  const queryProperties = OBJECT_TYPES[type].queryProperties;
  const limit = body.limit ?? 10;
  const offset = body.after === undefined || body.after === '' ? 0 : Number(body.after);
  if (!Number.isInteger(offset) || offset < 0) {
    throw validationError(`Invalid after: ${body.after ?? ''}`, [
      { message: 'after must be a non-negative integer', code: 'INVALID_INTEGER', in: 'after' },
    ]);
  }
  if (offset >= SEARCH_RESULT_CAP) {
    throw validationError(
      `The search API returns at most ${SEARCH_RESULT_CAP} results per query (after=${offset}). Narrow the query instead, e.g. with a filter on the last modified date.`,
      [{ message: `after must be below ${SEARCH_RESULT_CAP}`, code: 'SEARCH_RESULT_LIMIT_EXCEEDED', in: 'after' }],
    );
  }
  const matches: CrmRecord[] = [];
  for (const record of crm.table(type).scan(undefined, false)) {
    if (compiled.length > 0 && !compiled.some((group) => group.every((predicate) => predicate(record)))) continue;
    if (query !== undefined && query !== '' && !queryProperties.some((name) => record.properties[name]?.toLowerCase().includes(query)))
      continue;
    matches.push(record);
  }
  const sort = body.sorts?.[0];
  if (sort !== undefined) {
    const descending = typeof sort === 'string' ? sort.startsWith('-') : sort.direction === 'DESCENDING';
    const name = typeof sort === 'string' ? sort.replace(/^-/, '') : sort.propertyName;
    const definition = catalog.get(name);
    const key = (record: CrmRecord): Comparable | undefined => {
      const value = record.properties[name];
      return value === undefined ? undefined : comparable(definition, value);
    };
    matches.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? 1 : -1;
      const order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
  }
  const page = matches.slice(offset, Math.min(offset + limit, SEARCH_RESULT_CAP));
  const result: Record<string, unknown> = {
    total: matches.length,
    results: page.map((record) =>
      toApiObject(type, record, { properties: body.properties }, { catalog, associations: store.associations }),
    ),
  };
  if (offset + limit < matches.length) result.paging = { next: { after: String(offset + limit) } };
  return result;
}

/** `POST /crm/v3/objects/{objectType}/search`. */
export function searchRouter(store: SandboxStore, crm: CrmService): Router {
  const router = Router();
  router.post('/crm/v3/objects/:objectType/search', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    res.json(runSearch(store, crm, type, parseBody(searchBody, req.body)));
  });
  return router;
}
