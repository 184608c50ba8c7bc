import type { AssociationIndex } from './associations.ts';
import type { CrmRecord, ObjectTypeName, PropertyDefinition, PropertyVersion } from './model.ts';
import { OBJECT_TYPES, associationType } from './object-types.ts';

/** What a read asks for: named properties, properties with history, associated object types. */
export interface ViewOptions {
  properties?: readonly string[] | undefined;
  propertiesWithHistory?: readonly string[] | undefined;
  associations?: readonly ObjectTypeName[] | undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The `properties` map of a response: requested (or default) names, `null` when empty. */
export function selectProperties(
  type: ObjectTypeName,
  record: CrmRecord,
  requested: readonly string[] | undefined,
): Record<string, string | null> {
  const info = OBJECT_TYPES[type];
  const names =
    requested === undefined || requested.length === 0
      ? info.defaultProperties
      : [...new Set([...requested, 'hs_object_id', info.createdProperty, info.modifiedProperty])];
  const result: Record<string, string | null> = {};
  for (const name of names) result[name] = record.properties[name] ?? null;
  return result;
}

function historyView(version: PropertyVersion): Record<string, unknown> {
  const view: Record<string, unknown> = {
    value: version.value,
    timestamp: iso(version.timestamp),
    sourceType: version.sourceType,
  };
  if (version.sourceId !== undefined) view.sourceId = version.sourceId;
  if (version.sourceLabel !== undefined) view.sourceLabel = version.sourceLabel;
  if (version.updatedByUserId !== undefined) view.updatedByUserId = version.updatedByUserId;
  return view;
}

/** A record as `SimplePublicObject(WithAssociations)`. */
export function toApiObject(
  type: ObjectTypeName,
  record: CrmRecord,
  options: ViewOptions,
  context: { catalog: ReadonlyMap<string, PropertyDefinition>; associations: AssociationIndex },
): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: record.id,
    properties: selectProperties(type, record, options.properties),
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
    archived: record.archived,
  };
  if (record.archived && record.archivedAt !== undefined) view.archivedAt = iso(record.archivedAt);
  const withHistory = (options.propertiesWithHistory ?? []).filter((name) => context.catalog.has(name));
  if (withHistory.length > 0) {
    view.propertiesWithHistory = Object.fromEntries(withHistory.map((name) => [name, (record.history[name] ?? []).map(historyView)]));
  }
  const associated: Record<string, unknown> = {};
  for (const toType of options.associations ?? []) {
    const results = context.associations
      .list(type, record.id, toType)
      .flatMap(({ toId, typeIds }) => typeIds.map((typeId) => ({ id: toId, type: associationType(typeId)?.name ?? String(typeId) })));
    if (results.length > 0) associated[toType] = { results };
  }
  if (Object.keys(associated).length > 0) view.associations = associated;
  return view;
}

/** Envelope of a completed batch (`BatchResponse…`): 200/201, or 207 with `errors` and `numErrors`. */
export function batchEnvelope(results: unknown[], errors: unknown[], startedAt: number, completedAt: number): Record<string, unknown> {
  const body: Record<string, unknown> = {
    status: 'COMPLETE',
    results,
    startedAt: iso(startedAt),
    completedAt: iso(completedAt),
  };
  if (errors.length > 0) {
    body.numErrors = errors.length;
    body.errors = errors;
  }
  return body;
}
