/** Record and result bodies as REST returns them. */
import { invalidField } from './errors.ts';
import type { WriteResult } from './records.ts';
import type { OrgSchema } from './schema.ts';
import type { FieldDef, ObjectDef, SfError, SfRecord } from './types.ts';

export function recordUrl(urlBase: string, type: string, id: unknown): string {
  return `${urlBase}/sobjects/${type}/${String(id)}`;
}

/** `{attributes, ...fields}`: every field of the object, or only the requested ones. */
export function recordBody(obj: ObjectDef, record: SfRecord, urlBase: string, only?: readonly FieldDef[]): Record<string, unknown> {
  const body: Record<string, unknown> = { attributes: { type: obj.name, url: recordUrl(urlBase, obj.name, record.Id) } };
  for (const field of only ?? obj.fields) body[field.name] = record[field.name] ?? null;
  return body;
}

/** Resolves a `fields=A,B` list; INVALID_FIELD for a name the object lacks. */
export function fieldList(schema: OrgSchema, obj: ObjectDef, raw: string | undefined): FieldDef[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((name) => {
    const field = schema.field(obj.name, name.trim());
    if (!field) throw invalidField(`No such column '${name.trim()}' on sobject of type ${obj.name}`);
    return field;
  });
}

/** A record-level error inside a collection result uses `statusCode`, not `errorCode`. */
export function collectionErrors(errors: SfError[]): Array<{ statusCode: string; message: string; fields: string[] }> {
  return errors.map((e) => ({ statusCode: e.errorCode, message: e.message, fields: e.fields ?? [] }));
}

export function saveResult(result: WriteResult, withCreated: boolean): Record<string, unknown> {
  if (!result.ok) return { success: false, errors: collectionErrors(result.errors) };
  return withCreated ? { id: result.id, success: true, errors: [], created: result.created } : { id: result.id, success: true, errors: [] };
}
