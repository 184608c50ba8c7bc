/**
 * Field paths in SOQL (`Email`, `Owner.Name`, `ConvertedContact.Account.Name`): resolution against
 * metadata, reading values across parent relationships, and type-aware ordering.
 */
import { httpError, invalidField } from './errors.ts';
import type { ChildRelationship, FieldDef, ObjectDef } from './types.ts';

export type Row = Readonly<Record<string, unknown>>;

/** What a query runs against: the org's data API or the Tooling API. */
export interface SoqlSource {
  object(name: string): ObjectDef | undefined;
  field(objectName: string, fieldName: string): FieldDef | undefined;
  relationship(objectName: string, relationshipName: string): FieldDef | undefined;
  child(objectName: string, relationshipName: string): ChildRelationship | undefined;
  /** Every row of a type, deleted ones included. */
  rows(type: string): Iterable<Row>;
  /** A row by id among the given types. */
  byId(types: readonly string[], id: string): { type: string; row: Row } | undefined;
  /** Rows that may hold `value` in `field` (an index lookup; a superset the WHERE still filters). Absent: scan. */
  rowsWithValue?(type: string, field: string, value: string): Iterable<Row>;
}

export interface ResolvedPath {
  /** Canonical dotted name, e.g. `Owner.Name`. */
  name: string;
  /** Reference fields walked before the leaf, with their relationship names. */
  steps: FieldDef[];
  leaf: FieldDef;
}

const MAX_RELATIONSHIP_DEPTH = 5;

function noSuchColumn(field: string, objectName: string): Error {
  return invalidField(
    `No such column '${field}' on entity '${objectName}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
  );
}

/** Resolves a dotted path from an object, or throws INVALID_FIELD the way Salesforce words it. */
export function resolvePath(source: SoqlSource, objectName: string, dotted: string): ResolvedPath {
  const parts = dotted.split('.');
  if (parts.length - 1 > MAX_RELATIONSHIP_DEPTH) {
    throw httpError(400, 'MALFORMED_QUERY', `A relationship path may span at most ${MAX_RELATIONSHIP_DEPTH} levels: ${dotted}`);
  }
  const steps: FieldDef[] = [];
  let current = [objectName];
  const names: string[] = [];
  for (const [index, part] of parts.entries()) {
    const isLeaf = index === parts.length - 1;
    if (isLeaf) {
      const leaf = current.map((o) => source.field(o, part)).find((f) => f !== undefined);
      if (!leaf) throw noSuchColumn(part, current[0] ?? objectName);
      names.push(leaf.name);
      return { name: names.join('.'), steps, leaf };
    }
    const reference = current.map((o) => source.relationship(o, part)).find((f) => f !== undefined);
    if (!reference) {
      throw invalidField(
        `Didn't understand relationship '${part}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    steps.push(reference);
    names.push(reference.relationshipName ?? part);
    current = reference.referenceTo;
  }
  throw noSuchColumn(dotted, objectName);
}

/** The parent row reached by following `steps` from `row`; undefined when a link is empty. */
export function followSteps(source: SoqlSource, row: Row, steps: readonly FieldDef[]): { type: string; row: Row } | undefined {
  let current: { type: string; row: Row } | undefined = { type: '', row };
  for (const step of steps) {
    const id = current?.row[step.name];
    if (typeof id !== 'string') return undefined;
    current = source.byId(step.referenceTo, id);
    if (!current) return undefined;
  }
  return current;
}

export function readPath(source: SoqlSource, row: Row, path: ResolvedPath): unknown {
  if (path.steps.length === 0) return row[path.leaf.name] ?? null;
  const parent = followSteps(source, row, path.steps);
  return parent ? (parent.row[path.leaf.name] ?? null) : null;
}

/** Orders two non-null values of a field: numbers numerically, text case-insensitively. */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const x = String(a).toLowerCase();
  const y = String(b).toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}
