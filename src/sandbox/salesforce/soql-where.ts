/**
 * SOQL WHERE clauses: the parser's flat condition chain (with paren counts) is rebuilt into a tree,
 * type-checked against field metadata, and compiled to a row predicate. SOQL does not let AND and
 * OR mix without parentheses; that is refused like Salesforce refuses it.
 */
import type { Condition, Query, ValueQueryCondition, WhereClause } from '@jetstreamapp/soql-parser-js';
import { httpError, malformedQuery } from './errors.ts';
import { toId18 } from './ids.ts';
import { parseDate, parseDateTime } from './sf-time.ts';
import { dateLiteralRange } from './soql-dates.ts';
import { compareValues, readPath, resolvePath, type ResolvedPath, type Row, type SoqlSource } from './soql-paths.ts';
import type { FieldDef } from './types.ts';

export type Predicate = (row: Row) => boolean;

/** Runs a semi-join subquery and returns the values of its single selected field. */
export type SemiJoinRunner = (query: Query) => Set<unknown>;

type Token =
  | { kind: '(' }
  | { kind: ')' }
  | { kind: 'NOT' }
  | { kind: 'AND' }
  | { kind: 'OR' }
  | { kind: 'cond'; cond: Condition | ValueQueryCondition };

function tokenize(where: WhereClause | undefined, out: Token[] = []): Token[] {
  if (!where) return out;
  const left = where.left as (Condition & { openParen?: number; closeParen?: number; field?: string; fn?: unknown }) | null;
  if (left) for (let i = 0; i < (left.openParen ?? 0); i++) out.push({ kind: '(' });
  const hasCondition = left !== null && ('field' in left || 'fn' in left);
  if (hasCondition) out.push({ kind: 'cond', cond: left as Condition });
  if (left && hasCondition) for (let i = 0; i < (left.closeParen ?? 0); i++) out.push({ kind: ')' });
  if ('operator' in where && where.operator) out.push({ kind: where.operator });
  return 'right' in where ? tokenize(where.right, out) : out;
}

type Node = { kind: 'and' | 'or'; items: Node[] } | { kind: 'not'; item: Node } | { kind: 'cond'; cond: Condition | ValueQueryCondition };

class TreeBuilder {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  build(): Node {
    const node = this.expr();
    if (this.i < this.tokens.length) throw malformedQuery(`unexpected token: '${this.tokens[this.i]?.kind ?? ''}'`);
    return node;
  }

  private expr(): Node {
    const items = [this.term()];
    let joiner: 'AND' | 'OR' | undefined;
    for (let t = this.tokens[this.i]; t && (t.kind === 'AND' || t.kind === 'OR'); t = this.tokens[this.i]) {
      if (joiner && joiner !== t.kind) throw malformedQuery(`unexpected token: '${t.kind}' (use parentheses when mixing AND and OR)`);
      joiner = t.kind;
      this.i++;
      items.push(this.term());
    }
    return items.length === 1 ? (items[0] as Node) : { kind: joiner === 'OR' ? 'or' : 'and', items };
  }

  private term(): Node {
    const t = this.tokens[this.i++];
    if (!t) throw malformedQuery('unexpected end of WHERE clause');
    if (t.kind === 'NOT') return { kind: 'not', item: this.term() };
    if (t.kind === 'cond') return { kind: 'cond', cond: t.cond };
    if (t.kind === '(') {
      const inner = this.expr();
      if (this.tokens[this.i++]?.kind !== ')') throw malformedQuery("expecting a right parentheses, found ''");
      return inner;
    }
    throw malformedQuery(`unexpected token: '${t.kind}'`);
  }
}

/** A literal after type checking: a point, a range (date literals), or a scalar. */
type Operand = { kind: 'null' } | { kind: 'scalar'; value: string | number | boolean } | { kind: 'range'; start: number; end: number };

const TEXT_TYPES = new Set(['string', 'textarea', 'email', 'phone', 'url', 'picklist', 'multipicklist', 'combobox']);
const NUMBER_TYPES = new Set(['double', 'currency', 'percent', 'int']);

function filterError(field: FieldDef, expected: string, quoted: boolean): Error {
  return httpError(
    400,
    'INVALID_QUERY_FILTER_OPERATOR',
    `value of filter criterion for field '${field.name}' must be of type ${expected} and should ${quoted ? '' : 'not '}be enclosed in quotes`,
  );
}

/** Unquotes and unescapes a SOQL string literal; LIKE keeps `\%` and `\_` as escaped wildcards. */
export function unquote(raw: string, keepWildcardEscapes: boolean): string {
  const body = raw.startsWith("'") && raw.endsWith("'") ? raw.slice(1, -1) : raw;
  const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' };
  return body.replace(/\\(.)/g, (_m, c: string) => map[c] ?? (keepWildcardEscapes && (c === '%' || c === '_') ? `\\${c}` : c));
}

function toOperand(field: FieldDef, raw: string, literalType: string, n: number | undefined, now: number, forLike: boolean): Operand {
  if (literalType === 'NULL') return { kind: 'null' };
  const type = field.type;
  if (TEXT_TYPES.has(type)) {
    if (literalType !== 'STRING') throw filterError(field, 'string', true);
    return { kind: 'scalar', value: unquote(raw, forLike).toLowerCase() };
  }
  if (type === 'id' || type === 'reference') {
    if (literalType !== 'STRING') throw filterError(field, 'id', true);
    const id = toId18(unquote(raw, false));
    if (id === null) throw httpError(400, 'INVALID_QUERY_FILTER_OPERATOR', `invalid ID field: ${unquote(raw, false)}`);
    return { kind: 'scalar', value: id };
  }
  if (type === 'boolean') {
    if (literalType !== 'BOOLEAN') throw filterError(field, 'boolean', false);
    return { kind: 'scalar', value: raw.toUpperCase() === 'TRUE' };
  }
  if (NUMBER_TYPES.has(type)) {
    if (literalType !== 'INTEGER' && literalType !== 'DECIMAL') throw filterError(field, 'number', false);
    return { kind: 'scalar', value: Number(raw) };
  }
  // date and datetime
  if (literalType === 'DATE_LITERAL' || literalType === 'DATE_N_LITERAL') {
    const range = dateLiteralRange(raw, n, now);
    if (!range) throw malformedQuery(`unexpected date literal: ${raw}`);
    return { kind: 'range', ...range };
  }
  if (type === 'date' && literalType === 'DATE') {
    const start = parseDate(raw);
    if (start === null) throw malformedQuery(`invalid date: ${raw}`);
    return { kind: 'range', start, end: start + 86_400_000 };
  }
  if (type === 'datetime' && literalType === 'DATETIME') {
    const at = parseDateTime(raw);
    if (at === null) throw malformedQuery(`invalid datetime: ${raw}`);
    return { kind: 'scalar', value: at };
  }
  throw filterError(field, type === 'date' ? 'date' : 'dateTime', false);
}

/** Brings a stored value to the operand's domain (lowercase text, epoch ms for dates). */
function normalize(field: FieldDef, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (field.type === 'date' && typeof value === 'string') return parseDate(value);
  if (field.type === 'datetime' && typeof value === 'string') return parseDateTime(value);
  if (typeof value === 'string' && TEXT_TYPES.has(field.type)) return value.toLowerCase();
  return value;
}

function likeToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '\\' && i + 1 < pattern.length) source += pattern.charAt(++i).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'i');
}

function matches(operator: string, value: unknown, operand: Operand): boolean {
  if (operand.kind === 'null') return operator === '=' ? value === null : value !== null;
  if (value === null) return operator === '!=';
  if (operand.kind === 'range') {
    const v = value as number;
    const inRange = v >= operand.start && v < operand.end;
    switch (operator) {
      case '=':
        return inRange;
      case '!=':
        return !inRange;
      case '<':
        return v < operand.start;
      case '<=':
        return v < operand.end;
      case '>':
        return v >= operand.end;
      case '>=':
        return v >= operand.start;
      default:
        return false;
    }
  }
  const c = compareValues(value, operand.value);
  switch (operator) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    default:
      return false;
  }
}

/** Whether a row's value is one of an IN list's operands. */
function inListPredicate(operands: Operand[], read: (row: Row) => unknown): Predicate {
  // A list of text or id values is a set lookup (compareValues compares strings lower-cased),
  // so `Email IN (200 values)` over a large table costs one hash probe per row.
  const keys = operands.every((o) => o.kind === 'scalar' && typeof o.value === 'string')
    ? new Set(operands.map((o) => (o.kind === 'scalar' ? String(o.value).toLowerCase() : '')))
    : null;
  return keys
    ? (row: Row) => {
        const value = read(row);
        return (
          (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') && keys.has(String(value).toLowerCase())
        );
      }
    : (row: Row) => operands.some((o) => matches('=', read(row), o));
}

function compileCondition(
  source: SoqlSource,
  objectName: string,
  cond: Condition | ValueQueryCondition,
  now: number,
  semiJoin: SemiJoinRunner,
): Predicate {
  if (!('field' in cond)) throw malformedQuery('functions in WHERE are not supported by the sandbox org');
  const path: ResolvedPath = resolvePath(source, objectName, cond.field);
  const field = path.leaf;
  const op = cond.operator.toUpperCase();
  const read = (row: Row) => normalize(field, readPath(source, row, path));
  if ('valueQuery' in cond) {
    if (op !== 'IN' && op !== 'NOT IN') throw malformedQuery('a semi-join subquery needs IN or NOT IN');
    const ids = semiJoin(cond.valueQuery);
    return op === 'IN' ? (row) => ids.has(read(row)) : (row) => !ids.has(read(row));
  }
  const c = cond as Condition & { value: string | string[]; literalType?: string | string[]; dateLiteralVariable?: number | number[] };
  const rawValues = Array.isArray(c.value) ? c.value : [c.value];
  const single = typeof c.literalType === 'string' ? c.literalType : 'STRING';
  const literalTypes: string[] = Array.isArray(c.literalType) ? c.literalType : rawValues.map(() => single);
  const variables = Array.isArray(c.dateLiteralVariable)
    ? c.dateLiteralVariable
    : rawValues.map(() => c.dateLiteralVariable as number | undefined);
  if (
    literalTypes.some((t) => t === 'APEX_BIND_VARIABLE' || t === 'INTEGER_WITH_CURRENCY_PREFIX' || t === 'DECIMAL_WITH_CURRENCY_PREFIX')
  ) {
    throw malformedQuery(`unexpected token: ${rawValues.join(', ')}`);
  }
  const operands = rawValues.map((raw, i) => toOperand(field, raw, literalTypes[i] ?? 'STRING', variables[i], now, op === 'LIKE'));
  switch (op) {
    case 'IN':
    case 'NOT IN': {
      if (!Array.isArray(c.value)) throw malformedQuery(`${op} needs a parenthesized list of values`);
      const hit = inListPredicate(operands, read);
      return op === 'IN' ? hit : (row) => !hit(row);
    }
    case 'LIKE': {
      const operand = operands[0];
      if (!TEXT_TYPES.has(field.type) || operand?.kind !== 'scalar')
        throw httpError(400, 'INVALID_QUERY_FILTER_OPERATOR', `invalid operator on field '${field.name}': LIKE`);
      const re = likeToRegExp(String(operand.value));
      return (row) => {
        const v = readPath(source, row, path);
        return typeof v === 'string' && re.test(v);
      };
    }
    case 'INCLUDES':
    case 'EXCLUDES': {
      if (field.type !== 'multipicklist')
        throw httpError(400, 'INVALID_QUERY_FILTER_OPERATOR', `${op} can only be used on multi-select picklist fields`);
      const wanted = operands.map((o) => (o.kind === 'scalar' ? String(o.value) : ''));
      const hit = (row: Row) => {
        const v = read(row);
        const selected = typeof v === 'string' ? v.split(';') : [];
        return wanted.some((w) => w.split(';').every((part) => selected.includes(part)));
      };
      return op === 'INCLUDES' ? hit : (row) => !hit(row);
    }
    default: {
      const operand = operands[0];
      if (!operand || Array.isArray(c.value)) throw malformedQuery(`unexpected value list for operator ${op}`);
      if (field.type === 'boolean' && op !== '=' && op !== '!=')
        throw httpError(400, 'INVALID_QUERY_FILTER_OPERATOR', `invalid operator on boolean field: ${op}`);
      if (operand.kind === 'null' && op !== '=' && op !== '!=') throw malformedQuery(`invalid operator with null: ${op}`);
      return (row) => matches(op, read(row), operand);
    }
  }
}

function compileNode(source: SoqlSource, objectName: string, node: Node, now: number, semiJoin: SemiJoinRunner): Predicate {
  switch (node.kind) {
    case 'and': {
      const parts = node.items.map((n) => compileNode(source, objectName, n, now, semiJoin));
      return (row) => parts.every((p) => p(row));
    }
    case 'or': {
      const parts = node.items.map((n) => compileNode(source, objectName, n, now, semiJoin));
      return (row) => parts.some((p) => p(row));
    }
    case 'not': {
      const inner = compileNode(source, objectName, node.item, now, semiJoin);
      return (row) => !inner(row);
    }
    case 'cond':
      return compileCondition(source, objectName, node.cond, now, semiJoin);
    default: {
      const unreachable: never = node;
      return unreachable;
    }
  }
}

/** The rows one condition can be narrowed to by an index (`field = 'x'`, `field IN (…)` on text or ids), or null. */
function indexedCandidates(
  source: SoqlSource,
  objectName: string,
  node: Node,
  lookup: NonNullable<SoqlSource['rowsWithValue']>,
): Map<string, Row> | null {
  switch (node.kind) {
    case 'and': {
      for (const item of node.items) {
        const found = indexedCandidates(source, objectName, item, lookup);
        if (found) return found;
      }
      return null;
    }
    case 'or': {
      const all = new Map<string, Row>();
      for (const item of node.items) {
        const found = indexedCandidates(source, objectName, item, lookup);
        if (!found) return null;
        for (const [id, row] of found) all.set(id, row);
      }
      return all;
    }
    case 'not':
      return null;
    case 'cond': {
      const cond = node.cond;
      if (!('field' in cond) || 'valueQuery' in cond || cond.field.includes('.')) return null;
      const op = cond.operator.toUpperCase();
      if (op !== '=' && op !== 'IN') return null;
      const field = source.field(objectName, cond.field);
      if (!field) return null;
      const isId = field.type === 'id' || field.type === 'reference';
      if (!isId && !TEXT_TYPES.has(field.type)) return null;
      const raws: unknown[] = Array.isArray(cond.value) ? cond.value : [cond.value];
      const types: unknown[] = Array.isArray(cond.literalType) ? cond.literalType : raws.map(() => cond.literalType ?? 'STRING');
      if (types.some((t) => t !== 'STRING') || raws.some((r) => typeof r !== 'string')) return null;
      const rows = new Map<string, Row>();
      for (const raw of raws as string[]) {
        const value = isId ? toId18(unquote(raw, false)) : unquote(raw, false);
        if (value === null) return null;
        for (const row of lookup(objectName, field.name, value)) rows.set(String(row.Id), row);
      }
      return rows;
    }
    default: {
      const unreachable: never = node;
      return unreachable;
    }
  }
}

/**
 * The rows a WHERE clause can be narrowed to through the source's value index, in creation (Id)
 * order, or null when the whole table must be read. The compiled predicate still filters them.
 */
export function indexedRows(source: SoqlSource, objectName: string, where: WhereClause | undefined): Row[] | null {
  const lookup = source.rowsWithValue?.bind(source);
  if (!where || !lookup) return null;
  const found = indexedCandidates(source, objectName, new TreeBuilder(tokenize(where)).build(), lookup);
  if (!found) return null;
  return [...found.values()].sort((a, b) => (String(a.Id) < String(b.Id) ? -1 : String(a.Id) > String(b.Id) ? 1 : 0));
}

/** Compiles a WHERE clause to a predicate; throws Salesforce errors for invalid filters. */
export function compileWhere(
  source: SoqlSource,
  objectName: string,
  where: WhereClause | undefined,
  now: number,
  semiJoin: SemiJoinRunner,
): Predicate {
  if (!where) return () => true;
  const tree = new TreeBuilder(tokenize(where)).build();
  return compileNode(source, objectName, tree, now, semiJoin);
}
