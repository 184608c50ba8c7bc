/**
 * SOQL over the sandbox org, parsed by @jetstreamapp/soql-parser-js. Supported: field lists,
 * parent paths (`Owner.Name`), child subqueries, FIELDS(), WHERE (see soql-where.ts) with semi-joins,
 * ORDER BY (ASC/DESC, NULLS FIRST/LAST, several keys), LIMIT, OFFSET, COUNT() and ungrouped
 * aggregates. Anything else is refused with MALFORMED_QUERY rather than answered wrongly.
 */
import { parseQuery, type OrderByClause, type Query, type Subquery } from '@jetstreamapp/soql-parser-js';
import { httpError, malformedQuery } from './errors.ts';
import { compareValues, followSteps, readPath, resolvePath, type ResolvedPath, type Row, type SoqlSource } from './soql-paths.ts';
import { compileWhere, indexedRows, type Predicate } from './soql-where.ts';
import type { ChildRelationship, ObjectDef } from './types.ts';

export interface SoqlOptions {
  includeDeleted: boolean;
  now: number;
  /** Base of record URLs in `attributes.url`, e.g. `/services/data/v60.0`. */
  urlBase: string;
}

export interface SoqlResult {
  totalSize: number;
  records: Record<string, unknown>[];
}

type Aggregate = { fn: 'COUNT' | 'COUNT_DISTINCT' | 'MIN' | 'MAX' | 'SUM' | 'AVG'; path: ResolvedPath | null; alias: string };

type SelectItem = { kind: 'field'; path: ResolvedPath } | { kind: 'child'; key: string; plan: Plan; relationship: ChildRelationship };

interface Plan {
  object: ObjectDef;
  select: SelectItem[];
  aggregates: Aggregate[];
  countOnly: boolean;
  where: Predicate;
  /** The rows an index narrows the WHERE to (null: read the whole table). */
  candidates: () => Row[] | null;
  orderBy: Array<{ path: ResolvedPath; desc: boolean; nullsFirst: boolean }>;
  limit: number | undefined;
  offset: number;
}

const MAX_OFFSET = 2000;

function parse(soql: string): Query {
  try {
    return parseQuery(soql);
  } catch (error) {
    throw malformedQuery(error instanceof Error ? error.message : String(error));
  }
}

function refuseUnsupported(q: Query | Subquery): void {
  const unsupported: Array<[unknown, string]> = [
    [q.groupBy, 'GROUP BY'],
    [q.having, 'HAVING'],
    [q.withDataCategory, 'WITH DATA CATEGORY'],
    [q.for, 'FOR VIEW/UPDATE/REFERENCE'],
    [q.update, 'UPDATE TRACKING/VIEWSTAT'],
    [q.usingScope, 'USING SCOPE'],
    [q.sObjectAlias, 'an object alias'],
  ];
  const found = unsupported.find(([value]) => value !== undefined && value !== false);
  if (found) throw malformedQuery(`${found[1]} is not supported by the sandbox org`);
}

function expandFieldsFunction(source: SoqlSource, object: ObjectDef, arg: string, limit: number | undefined): string[] {
  const which = arg.toUpperCase();
  if ((which === 'ALL' || which === 'CUSTOM') && (limit === undefined || limit > 200)) {
    throw malformedQuery('The SOQL FIELDS function must have a LIMIT of at most 200');
  }
  const pick = object.fields.filter((f) =>
    which === 'ALL' ? true : which === 'CUSTOM' ? f.custom : which === 'STANDARD' ? !f.custom : false,
  );
  if (pick.length === 0 && which !== 'CUSTOM') throw malformedQuery(`unexpected token: FIELDS(${arg})`);
  return pick.map((f) => f.name).filter((name) => source.field(object.name, name) !== undefined);
}

/** Adds the SELECT list to a plan: fields, child subqueries, FIELDS(), COUNT() and aggregates. */
function selectInto(plan: Plan, source: SoqlSource, q: Query | Subquery, now: number): void {
  const seen = new Set<string>();
  const addField = (dotted: string) => {
    const path = resolvePath(source, plan.object.name, dotted);
    if (seen.has(path.name.toLowerCase())) throw malformedQuery(`duplicate field selected: ${path.name}`);
    seen.add(path.name.toLowerCase());
    plan.select.push({ kind: 'field', path });
  };
  for (const field of q.fields ?? []) {
    switch (field.type) {
      case 'Field':
        if (field.alias) throw malformedQuery(`Only aggregate expressions use field aliasing: ${field.field} ${field.alias}`);
        addField(field.field);
        break;
      case 'FieldRelationship':
        addField([...field.relationships, field.field].join('.'));
        break;
      case 'FieldSubquery': {
        const sub = field.subquery;
        const relationship = source.child(plan.object.name, sub.relationshipName);
        if (!relationship)
          throw httpError(400, 'INVALID_TYPE', `Didn't understand relationship '${sub.relationshipName}' in FROM part of query call.`);
        plan.select.push({
          kind: 'child',
          key: relationship.relationshipName,
          relationship,
          plan: buildPlan(source, sub, relationship.childSObject, now),
        });
        break;
      }
      case 'FieldFunctionExpression': {
        const fn = field.functionName.toUpperCase();
        const params = field.parameters.filter((p): p is string => typeof p === 'string');
        if (fn === 'FIELDS' && params.length === 1) {
          for (const name of expandFieldsFunction(source, plan.object, params[0] ?? '', q.limit)) addField(name);
        } else if (fn === 'COUNT' && params.length === 0) {
          plan.countOnly = true;
        } else if (['COUNT', 'COUNT_DISTINCT', 'MIN', 'MAX', 'SUM', 'AVG'].includes(fn) && params.length === 1) {
          // Unaliased aggregates are named expr0, expr1, … counting only the unaliased ones.
          const alias = field.alias ?? `expr${plan.aggregates.filter((a) => /^expr\d+$/.test(a.alias)).length}`;
          plan.aggregates.push({ fn: fn as Aggregate['fn'], path: resolvePath(source, plan.object.name, params[0] ?? ''), alias });
        } else {
          throw malformedQuery(`${field.rawValue ?? fn} is not supported by the sandbox org`);
        }
        break;
      }
      default:
        throw malformedQuery('TYPEOF is not supported by the sandbox org');
    }
  }
}

function buildPlan(source: SoqlSource, q: Query | Subquery, objectName: string, now: number): Plan {
  refuseUnsupported(q);
  const object = source.object(objectName);
  if (!object || !object.queryable) {
    throw httpError(
      400,
      'INVALID_TYPE',
      `sObject type '${objectName}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  const plan: Plan = {
    object,
    select: [],
    aggregates: [],
    countOnly: false,
    where: () => true,
    candidates: () => null,
    orderBy: [],
    limit: q.limit,
    offset: q.offset ?? 0,
  };
  selectInto(plan, source, q, now);
  if (plan.countOnly && (plan.select.length > 0 || plan.aggregates.length > 0))
    throw malformedQuery('COUNT() must be the only element in the SELECT list');
  if (plan.aggregates.length > 0 && plan.select.length > 0) {
    const first = plan.select[0];
    throw malformedQuery(`Field must be grouped or aggregated: ${first?.kind === 'field' ? first.path.name : (first?.key ?? '')}`);
  }
  if (plan.select.length === 0 && plan.aggregates.length === 0 && !plan.countOnly) throw malformedQuery('unexpected token: FROM');
  if (plan.offset > MAX_OFFSET) throw httpError(400, 'NUMBER_OUTSIDE_VALID_RANGE', `Maximum SOQL offset allowed is ${MAX_OFFSET}`);
  plan.where = compileWhere(source, object.name, q.where, now, (sub) => semiJoinValues(source, sub, now));
  plan.candidates = () => indexedRows(source, object.name, q.where);
  const orderBy = q.orderBy === undefined ? [] : Array.isArray(q.orderBy) ? q.orderBy : [q.orderBy];
  plan.orderBy = orderBy.map((o: OrderByClause) => {
    if (!('field' in o) || o.field === undefined) throw malformedQuery('ORDER BY a function is not supported by the sandbox org');
    const desc = o.order === 'DESC';
    return { path: resolvePath(source, object.name, o.field), desc, nullsFirst: o.nulls === undefined ? !desc : o.nulls === 'FIRST' };
  });
  return plan;
}

function semiJoinValues(source: SoqlSource, sub: Query, now: number): Set<unknown> {
  const plan = buildPlan(source, sub, sub.sObject ?? '', now);
  const only = plan.select[0];
  if (plan.select.length !== 1 || only?.kind !== 'field' || !['id', 'reference'].includes(only.path.leaf.type)) {
    throw malformedQuery('The selected field in a semi-join subquery must be an Id or a reference field');
  }
  return new Set(selectRows(source, plan, false).map((row) => readPath(source, row, only.path)));
}

function selectRows(source: SoqlSource, plan: Plan, includeDeleted: boolean, filter?: (row: Row) => boolean): Row[] {
  const rows: Row[] = [];
  for (const row of plan.candidates() ?? source.rows(plan.object.name)) {
    if (!includeDeleted && row.IsDeleted === true) continue;
    if (filter && !filter(row)) continue;
    if (plan.where(row)) rows.push(row);
  }
  if (plan.orderBy.length > 0) {
    rows.sort((a, b) => {
      for (const key of plan.orderBy) {
        const x = readPath(source, a, key.path);
        const y = readPath(source, b, key.path);
        if (x === null && y === null) continue;
        if (x === null || y === null) return (x === null) === key.nullsFirst ? -1 : 1;
        const c = compareValues(x, y);
        if (c !== 0) return key.desc ? -c : c;
      }
      return 0;
    });
  }
  const end = plan.limit === undefined ? undefined : plan.offset + plan.limit;
  return rows.slice(plan.offset, end);
}

function recordUrl(urlBase: string, type: string, id: unknown): string {
  return `${urlBase}/sobjects/${type}/${String(id)}`;
}

function assignPath(source: SoqlSource, out: Record<string, unknown>, row: Row, path: ResolvedPath, urlBase: string): void {
  let target = out;
  for (const [index, step] of path.steps.entries()) {
    const key = step.relationshipName ?? step.name;
    if (target[key] === null) return;
    const parent = followSteps(source, row, path.steps.slice(0, index + 1));
    if (!parent) {
      target[key] = null;
      return;
    }
    if (target[key] === undefined) target[key] = { attributes: { type: parent.type, url: recordUrl(urlBase, parent.type, parent.row.Id) } };
    target = target[key] as Record<string, unknown>;
  }
  target[path.leaf.name] = readPath(source, row, path);
}

function project(source: SoqlSource, plan: Plan, row: Row, options: SoqlOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {
    attributes: { type: plan.object.name, url: recordUrl(options.urlBase, plan.object.name, row.Id) },
  };
  for (const item of plan.select) {
    if (item.kind === 'field') {
      assignPath(source, out, row, item.path, options.urlBase);
      continue;
    }
    const children = selectRows(source, item.plan, false, (child) => child[item.relationship.field] === row.Id);
    out[item.key] =
      children.length === 0
        ? null
        : { totalSize: children.length, done: true, records: children.map((c) => project(source, item.plan, c, options)) };
  }
  return out;
}

function aggregateRow(source: SoqlSource, plan: Plan, rows: Row[]): Record<string, unknown> {
  const out: Record<string, unknown> = { attributes: { type: 'AggregateResult' } };
  for (const agg of plan.aggregates) {
    const values = rows.map((r) => (agg.path ? readPath(source, r, agg.path) : null)).filter((v) => v !== null);
    const numbers = values.filter((v): v is number => typeof v === 'number');
    const sorted = [...values].sort(compareValues);
    switch (agg.fn) {
      case 'COUNT':
        out[agg.alias] = values.length;
        break;
      case 'COUNT_DISTINCT':
        out[agg.alias] = new Set(values.map((v) => (typeof v === 'string' ? v.toLowerCase() : v))).size;
        break;
      case 'MIN':
        out[agg.alias] = sorted[0] ?? null;
        break;
      case 'MAX':
        out[agg.alias] = sorted[sorted.length - 1] ?? null;
        break;
      case 'SUM':
        out[agg.alias] = numbers.length === 0 ? null : numbers.reduce((a, b) => a + b, 0);
        break;
      case 'AVG':
        out[agg.alias] = numbers.length === 0 ? null : numbers.reduce((a, b) => a + b, 0) / numbers.length;
        break;
      default: {
        const unreachable: never = agg.fn;
        return unreachable;
      }
    }
  }
  return out;
}

/** Runs a SOQL query; throws SfHttpError (MALFORMED_QUERY, INVALID_FIELD, …) for what it refuses. */
export function runSoql(source: SoqlSource, soql: string, options: SoqlOptions): SoqlResult {
  const q = parse(soql);
  const plan = buildPlan(source, q, q.sObject ?? '', options.now);
  const rows = selectRows(source, plan, options.includeDeleted);
  if (plan.countOnly) return { totalSize: rows.length, records: [] };
  if (plan.aggregates.length > 0) return { totalSize: 1, records: [aggregateRow(source, plan, rows)] };
  return { totalSize: rows.length, records: rows.map((row) => project(source, plan, row, options)) };
}
