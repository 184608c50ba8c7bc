/**
 * Field bitmaps of change events received over the Pub/Sub API. `changedFields`, `nulledFields` and
 * `diffFields` hold hex bitmaps instead of names: `0x…` where bit i (least significant first) is
 * the i-th field of the event's Avro schema, and `<parentPos>-0x…` for the fields of a compound field
 * at that position. Source: "Event Deserialization Considerations", Pub/Sub API guide, and the
 * `process_bitmap` example in forcedotcom/pub-sub-api `python/util/ChangeEventHeaderUtility.py`.
 */
import type avro from 'avsc';

/** A record type's fields in schema order: what a bitmap's bit positions index. */
interface RecordLike {
  fields: ReadonlyArray<{ name: string; type: avro.Type }>;
}

function isRecord(type: avro.Type | undefined): type is avro.Type & RecordLike {
  return type !== undefined && Array.isArray((type as Partial<RecordLike>).fields);
}

/** The record inside an optional field (`["null", {record}]`), or undefined when there is none. */
function recordOf(type: avro.Type): RecordLike | undefined {
  if (isRecord(type)) return type;
  const members = (type as { types?: avro.Type[] }).types ?? [];
  return members.find(isRecord);
}

/** Indexes of the set bits of a `0x…` hex bitmap, lowest first. */
export function setBits(hex: string): number[] {
  let bits = BigInt(hex.startsWith('0x') ? hex : `0x${hex}`);
  const indexes: number[] = [];
  for (let i = 0; bits > 0n; i++, bits >>= 1n) if ((bits & 1n) === 1n) indexes.push(i);
  return indexes;
}

function namesAt(record: RecordLike, hex: string): string[] {
  return setBits(hex).flatMap((i) => {
    const field = record.fields[i];
    return field === undefined ? [] : [field.name];
  });
}

/** Field names for a header's bitmap list; entries that are already names pass through. */
export function decodeFieldBitmap(schema: avro.Type, entries: readonly string[]): string[] {
  if (!isRecord(schema)) return [...entries];
  return entries.flatMap((entry) => {
    if (entry.startsWith('0x')) return namesAt(schema, entry);
    const nested = /^(\d+)-(0x[0-9a-fA-F]+)$/.exec(entry);
    if (!nested) return [entry];
    const parent = schema.fields[Number(nested[1])];
    const child = parent === undefined ? undefined : recordOf(parent.type);
    if (parent === undefined || child === undefined) return [];
    return namesAt(child, nested[2] ?? '0x0').map((name) => `${parent.name}.${name}`);
  });
}

/** The `0x…` bitmap of the given top-level fields of a schema (how the service encodes them). */
export function encodeFieldBitmap(fieldNames: readonly string[], names: readonly string[]): string {
  let bits = 0n;
  for (const name of names) {
    const index = fieldNames.indexOf(name);
    if (index >= 0) bits |= 1n << BigInt(index);
  }
  return `0x${bits.toString(16).toUpperCase()}`;
}
