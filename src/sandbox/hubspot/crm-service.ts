import { HubSpotError, conflict, errorBody, validationError } from './errors.ts';
import type { ChangeEvent, ChangeOrigin, CrmRecord, ObjectTypeName, PropertyVersion } from './model.ts';
import { OBJECT_TYPES, associationType, defaultAssociationType } from './object-types.ts';
import { propertyValidationError, stageRank, validateWrites } from './property-values.ts';
import type { PropertyInputValue, PropertyIssue, WritePolicy } from './property-values.ts';
import type { SandboxConfig } from './sandbox-config.ts';
import type { ObjectTable, SandboxStore } from './store.ts';

/** `associations` of a create body: `[{to:{id}, types:[{associationCategory, associationTypeId}]}]`. */
export interface AssociationInput {
  to: { id: string };
  types: { associationCategory: string; associationTypeId: number }[];
}

export interface CreateInput {
  properties: Record<string, PropertyInputValue>;
  associations?: AssociationInput[] | undefined;
}

export interface UpdateInput {
  record: CrmRecord;
  properties: Record<string, PropertyInputValue>;
}

export interface UpsertInput {
  id: string;
  idProperty: string;
  properties: Record<string, PropertyInputValue>;
}

/** Policy of writes made through the public API with an app or private-app token. */
export const API_WRITE: WritePolicy = { lifecycle: 'keep-forward', allowReadOnly: false };

const CALCULATED: ChangeOrigin = { changeSource: 'CALCULATED' };

interface PlannedAssociation {
  toType: ObjectTypeName;
  toId: string;
  typeIds: number[];
}

/**
 * CRM object semantics shared by the REST routes, the forms endpoint and the sandbox UI:
 * validation (all inputs of a batch first, then writes), unique values, property history,
 * calculated properties, and the change events webhooks are made from.
 */
export class CrmService {
  constructor(
    private readonly store: SandboxStore,
    private readonly config: SandboxConfig,
    private readonly emit: (event: ChangeEvent) => void,
  ) {}

  table(type: ObjectTypeName): ObjectTable {
    return this.store.objects[type];
  }

  /** A record by id, or by the value of a unique property when `idProperty` is given. */
  find(type: ObjectTypeName, id: string, options: { idProperty?: string | undefined; archived?: boolean } = {}): CrmRecord | undefined {
    const archived = options.archived ?? false;
    const idProperty = options.idProperty;
    if (idProperty !== undefined && idProperty !== 'hs_object_id') {
      this.requireUniqueProperty(type, idProperty);
      return archived ? undefined : this.table(type).findUnique(idProperty, id);
    }
    const record = this.table(type).get(id);
    // A merged-away id reads the record the merge made, under that record's id ("fetching any
    // records using the original IDs will return the new merged record with the new ID":
    // https://developers.hubspot.com/changelog/updated-merge-functionality-for-contacts-and-companies).
    if (!archived && record?.mergedInto !== undefined) return this.find(type, record.mergedInto);
    return record !== undefined && record.archived === archived ? record : undefined;
  }

  /** Creates records; nothing is written unless every input is valid. */
  createMany(type: ObjectTypeName, inputs: readonly CreateInput[], origin: ChangeOrigin, policy: WritePolicy): CrmRecord[] {
    const issues: PropertyIssue[] = [];
    const seen = new Map<string, string>();
    const plans = inputs.map((input) => {
      const { values, issues: own } = validateWrites(this.store.properties[type], undefined, input.properties, policy);
      issues.push(...own);
      for (const required of OBJECT_TYPES[type].requiredOnCreate) {
        if ((values.get(required) ?? '') === '') {
          issues.push({ name: required, error: 'REQUIRED_PROPERTY', message: `${required} is required` });
        }
      }
      this.checkUnique(type, values, undefined, seen);
      return { values, associations: (input.associations ?? []).map((a) => this.planAssociation(type, a)) };
    });
    if (issues.length > 0) throw propertyValidationError(issues, this.config.portalId);
    return plans.map((plan) => {
      const record = this.insert(type, plan.values, origin);
      for (const association of plan.associations) {
        this.store.associations.add(type, record.id, association.toType, association.toId, association.typeIds);
      }
      return record;
    });
  }

  /** Updates records; nothing is written unless every input is valid. */
  updateMany(type: ObjectTypeName, inputs: readonly UpdateInput[], origin: ChangeOrigin, policy: WritePolicy): CrmRecord[] {
    const issues: PropertyIssue[] = [];
    const seen = new Map<string, string>();
    const plans = inputs.map((input) => {
      const { values, issues: own } = validateWrites(this.store.properties[type], input.record.properties, input.properties, policy);
      issues.push(...own);
      this.checkUnique(type, values, input.record.id, seen);
      return { record: input.record, values };
    });
    if (issues.length > 0) throw propertyValidationError(issues, this.config.portalId);
    const at = this.config.now();
    return plans.map(({ record, values }) => {
      this.write(type, record, values, origin, at, false);
      return record;
    });
  }

  /** Creates or updates by a unique property (`email` for contacts); reports which were new. */
  upsertMany(
    type: ObjectTypeName,
    inputs: readonly UpsertInput[],
    origin: ChangeOrigin,
    policy: WritePolicy,
  ): { record: CrmRecord; created: boolean }[] {
    for (const input of inputs) this.requireUniqueProperty(type, input.idProperty);
    const keys = new Set<string>();
    for (const input of inputs) {
      const key = `${input.idProperty}=${input.id.toLowerCase()}`;
      if (keys.has(key)) throw validationError(`Duplicate IDs found in batch input: ${input.id}. IDs must be unique`);
      keys.add(key);
    }
    const updates: UpdateInput[] = [];
    const creates: CreateInput[] = [];
    const order: { update: boolean; index: number }[] = [];
    for (const input of inputs) {
      const existing = this.find(type, input.id, { idProperty: input.idProperty });
      if (existing !== undefined) {
        order.push({ update: true, index: updates.length });
        updates.push({ record: existing, properties: input.properties });
      } else {
        order.push({ update: false, index: creates.length });
        creates.push({ properties: { ...input.properties, [input.idProperty]: input.id } });
      }
    }
    // Validate both halves before writing either, so a bad input leaves the portal untouched.
    this.validateOnly(type, creates, updates, policy);
    const created = this.createMany(type, creates, origin, policy);
    const updated = this.updateMany(type, updates, origin, policy);
    return order.map(({ update, index }) => {
      const record = update ? updated[index] : created[index];
      if (record === undefined) throw new Error('upsert bookkeeping out of step');
      return { record, created: !update };
    });
  }

  /** Archives a record (restorable in HubSpot for 90 days; here it just stops being visible). */
  archive(type: ObjectTypeName, record: CrmRecord, origin: ChangeOrigin): void {
    if (record.archived) return;
    const at = this.config.now();
    this.table(type).archive(record, at);
    record.updatedAt = at;
    this.store.associations.removeAllFor(type, record.id);
    this.emit({ objectType: type, kind: 'deletion', objectId: record.id, occurredAt: at, origin });
  }

  /**
   * Merges two contacts or companies the way HubSpot does since it changed merges
   * (https://developers.hubspot.com/changelog/updated-merge-functionality-for-contacts-and-companies):
   * a new record with a new id is made; the primary's latest values are its current values, the
   * secondary's fill what the primary lacks; both old ids resolve to the new record. The exceptions
   * of https://knowledge.hubspot.com/records/merge-records: the primary's email stays (the
   * secondary's becomes an additional email), the lifecycle stage furthest down the funnel wins,
   * and the earliest create date stays. `hs_merged_object_ids` lists every id merged in. One
   * `merge` event carries `primaryObjectId`, `mergedObjectIds` and `newObjectId`
   * (https://developers.hubspot.com/changelog/new-subscription-types-for-webhooks).
   */
  merge(type: ObjectTypeName, primary: CrmRecord, secondary: CrmRecord, origin: ChangeOrigin): CrmRecord {
    if (primary.id === secondary.id) throw validationError(`Cannot merge ${OBJECT_TYPES[type].label} ${primary.id} with itself`);
    const at = this.config.now();
    const info = OBJECT_TYPES[type];
    const values = new Map<string, string>();
    let moved = 0;
    for (const [name, value] of Object.entries(secondary.properties))
      if (primary.properties[name] === undefined) {
        values.set(name, value);
        moved += 1;
      }
    for (const [name, value] of Object.entries(primary.properties)) values.set(name, value);
    const stage = this.store.properties[type].get('lifecyclestage');
    const stages = [primary.properties.lifecyclestage, secondary.properties.lifecyclestage].filter((v): v is string => v !== undefined);
    if (stage !== undefined && stages.length > 0)
      values.set(
        'lifecyclestage',
        stages.reduce((a, b) => (stageRank(stage, b) > stageRank(stage, a) ? b : a)),
      );
    if (type === 'contacts') {
      const extra = [primary.properties.hs_additional_emails, secondary.properties.hs_additional_emails, secondary.properties.email].filter(
        (v): v is string => v !== undefined && v !== '' && v !== values.get('email'),
      );
      if (extra.length > 0) values.set('hs_additional_emails', [...new Set(extra.flatMap((v) => v.split(';')))].join(';'));
    }
    const mergedIds = [primary, secondary].flatMap((r) => [...(r.properties.hs_merged_object_ids?.split(';') ?? []), r.id]);
    values.set('hs_merged_object_ids', [...new Set(mergedIds)].join(';'));
    const created = [primary, secondary]
      .map((r) => r.properties[info.createdProperty])
      .filter((v): v is string => v !== undefined)
      .sort()[0];
    // The old records leave the unique indexes first, so the survivor can take the email.
    for (const old of [primary, secondary]) this.table(type).archive(old, at);
    const record: CrmRecord = {
      id: this.store.newObjectId(),
      properties: {},
      history: {},
      createdAt: Math.min(primary.createdAt, secondary.createdAt),
      updatedAt: at,
      archived: false,
    };
    this.table(type).insert(record);
    values.set('hs_object_id', record.id);
    if (created !== undefined) values.set(info.createdProperty, created);
    values.set(info.modifiedProperty, new Date(at).toISOString());
    for (const [name, value] of values) this.table(type).setValue(record, name, value);
    // Property history: both records' versions, newest first, then the merge's own versions.
    for (const name of Object.keys(record.properties)) {
      const versions = [...(primary.history[name] ?? []), ...(secondary.history[name] ?? [])].sort((a, b) => b.timestamp - a.timestamp);
      record.history[name] =
        versions.length > 0
          ? versions.slice(0, Math.max(1, this.config.propertyHistoryLimit))
          : [{ value: record.properties[name] ?? '', timestamp: at, sourceType: 'MERGE' }];
    }
    for (const old of [primary, secondary]) {
      old.mergedInto = record.id;
      for (const toType of Object.keys(OBJECT_TYPES) as ObjectTypeName[]) {
        for (const edge of this.store.associations.list(type, old.id, toType))
          this.store.associations.add(type, record.id, toType, edge.toId, edge.typeIds);
      }
      this.store.associations.removeAllFor(type, old.id);
    }
    this.emit({
      objectType: type,
      kind: 'merge',
      objectId: record.id,
      occurredAt: at,
      origin,
      merge: { primaryObjectId: primary.id, mergedObjectIds: [secondary.id], newObjectId: record.id, numberOfPropertiesMoved: moved },
    });
    return record;
  }

  /**
   * Restores an archived record (HubSpot keeps deleted contacts restorable for 90 days; a merged-away
   * record cannot be restored). Emits `restore` (no payload fields of its own:
   * https://developers.hubspot.com/changelog/new-subscription-types-for-webhooks).
   */
  restore(type: ObjectTypeName, record: CrmRecord, origin: ChangeOrigin): void {
    if (!record.archived || record.mergedInto !== undefined)
      throw validationError(`${OBJECT_TYPES[type].label} ${record.id} is not deleted`);
    for (const name of Object.keys(record.properties)) {
      if (this.table(type).isUnique(name) && this.table(type).findUnique(name, record.properties[name] ?? '') !== undefined) {
        throw conflict(`A ${OBJECT_TYPES[type].label} with ${name} ${record.properties[name] ?? ''} already exists`);
      }
    }
    const at = this.config.now();
    this.table(type).unarchive(record);
    record.updatedAt = at;
    this.emit({ objectType: type, kind: 'restore', objectId: record.id, occurredAt: at, origin });
  }

  /** GDPR delete: removes the record for good. */
  purge(type: ObjectTypeName, record: CrmRecord, origin: ChangeOrigin): void {
    const at = this.config.now();
    this.table(type).purge(record.id);
    this.store.associations.removeAllFor(type, record.id);
    this.emit({ objectType: type, kind: 'deletion', objectId: record.id, occurredAt: at, origin });
    if (type === 'contacts') this.emit({ objectType: type, kind: 'privacyDeletion', objectId: record.id, occurredAt: at, origin });
  }

  /** Writes already-validated values, read-only ones included (forms analytics). */
  writeCalculated(type: ObjectTypeName, record: CrmRecord, values: ReadonlyMap<string, string>, origin: ChangeOrigin): void {
    this.write(type, record, values, origin, this.config.now(), false);
  }

  /** Resolves the association types of one create input (all must lead to the same object type). */
  planAssociation(fromType: ObjectTypeName, input: AssociationInput): PlannedAssociation {
    const infos = input.types.map((spec) => associationType(spec.associationTypeId));
    const first = infos[0];
    if (first === undefined || infos.some((info) => info === undefined || info.from !== fromType || info.to !== first.to)) {
      const ids = input.types.map((spec) => spec.associationTypeId).join(', ');
      throw validationError('One or more associations are invalid', [
        {
          message: `association type id(s) ${ids} are not valid from ${OBJECT_TYPES[fromType].singular}`,
          code: 'INVALID_ASSOCIATION_TYPE',
        },
      ]);
    }
    if (this.find(first.to, input.to.id) === undefined) {
      throw validationError('One or more associations are invalid', [
        { message: `No ${OBJECT_TYPES[first.to].label} with ID ${input.to.id} exists`, code: 'INVALID_OBJECT_ID' },
      ]);
    }
    // HubSpot keeps the unlabeled association alongside any label.
    const unlabeled = defaultAssociationType(fromType, first.to)?.id;
    const typeIds = input.types.map((spec) => spec.associationTypeId);
    return { toType: first.to, toId: input.to.id, typeIds: unlabeled === undefined ? typeIds : [...new Set([unlabeled, ...typeIds])] };
  }

  private validateOnly(type: ObjectTypeName, creates: readonly CreateInput[], updates: readonly UpdateInput[], policy: WritePolicy): void {
    const issues: PropertyIssue[] = [];
    for (const input of creates) issues.push(...validateWrites(this.store.properties[type], undefined, input.properties, policy).issues);
    for (const input of updates)
      issues.push(...validateWrites(this.store.properties[type], input.record.properties, input.properties, policy).issues);
    if (issues.length > 0) throw propertyValidationError(issues, this.config.portalId);
  }

  private requireUniqueProperty(type: ObjectTypeName, name: string): void {
    if (name === 'hs_object_id' || this.table(type).isUnique(name)) return;
    throw validationError(`${name} is not a unique property of ${type}; use a property with hasUniqueValue (e.g. email)`, [
      { message: `invalid idProperty ${name}`, code: 'INVALID_ID_PROPERTY', in: 'idProperty' },
    ]);
  }

  /** 409 when a unique value belongs to another record (or twice to the same batch). */
  private checkUnique(
    type: ObjectTypeName,
    values: ReadonlyMap<string, string>,
    ownId: string | undefined,
    seen: Map<string, string>,
  ): void {
    const table = this.table(type);
    for (const [name, value] of values) {
      if (value === '' || !table.isUnique(name)) continue;
      const holder = table.findUnique(name, value);
      if (holder !== undefined && holder.id !== ownId) {
        const message =
          type === 'contacts' && name === 'email'
            ? `Contact already exists. Existing ID: ${holder.id}`
            : `A ${OBJECT_TYPES[type].singular} with ${name}=${value} already exists. Existing ID: ${holder.id}`;
        throw conflict(message);
      }
      const key = `${name}=${value.toLowerCase()}`;
      const other = seen.get(key);
      if (other !== undefined && other !== ownId) {
        throw new HubSpotError(409, errorBody('CONFLICT', `Duplicate value for unique property ${name} in batch input: ${value}`));
      }
      seen.set(key, ownId ?? key);
    }
  }

  private insert(type: ObjectTypeName, values: ReadonlyMap<string, string>, origin: ChangeOrigin): CrmRecord {
    const at = this.config.now();
    const info = OBJECT_TYPES[type];
    const record: CrmRecord = { id: this.store.newObjectId(), properties: {}, history: {}, createdAt: at, updatedAt: at, archived: false };
    this.table(type).insert(record);
    const iso = new Date(at).toISOString();
    this.setValue(type, record, 'hs_object_id', record.id, CALCULATED, at);
    this.setValue(type, record, info.createdProperty, iso, CALCULATED, at);
    this.emit({ objectType: type, kind: 'creation', objectId: record.id, occurredAt: at, origin });
    const initial = new Map(values);
    if (type === 'contacts' && origin.changeSource !== 'FORM' && (initial.get('hs_analytics_source') ?? '') === '') {
      // Contacts that did not come from a tracked visit get "Offline sources" (docs/reference/hubspot-api.md §3.3).
      const drillDown2 = origin.sourceId ?? '';
      this.write(
        type,
        record,
        new Map([
          ['hs_analytics_source', 'OFFLINE'],
          ['hs_analytics_source_data_1', origin.changeSource],
          ['hs_analytics_source_data_2', drillDown2],
          ['hs_latest_source', 'OFFLINE'],
          ['hs_latest_source_data_1', origin.changeSource],
          ['hs_latest_source_data_2', drillDown2],
          ['hs_latest_source_timestamp', iso],
        ]),
        { changeSource: 'ANALYTICS' },
        at,
        true,
      );
      initial.delete('hs_analytics_source');
    }
    this.write(type, record, initial, origin, at, true);
    return record;
  }

  /** Applies values, keeps calculated properties in step and emits one propertyChange per changed value. */
  private write(
    type: ObjectTypeName,
    record: CrmRecord,
    values: ReadonlyMap<string, string>,
    origin: ChangeOrigin,
    at: number,
    isNew: boolean,
  ): void {
    const changed: string[] = [];
    for (const [name, value] of values) if (this.setValue(type, record, name, value, origin, at)) changed.push(name);
    const derived = new Map<string, string>();
    for (const name of changed) {
      const value = record.properties[name] ?? '';
      if (name === 'lifecyclestage' && value !== '') {
        const stageDate = `hs_lifecyclestage_${value}_date`;
        if (this.store.properties[type].has(stageDate) && record.properties[stageDate] === undefined) {
          derived.set(stageDate, new Date(at).toISOString());
        }
      }
      if (name === 'email' && type === 'contacts') derived.set('hs_email_domain', value.split('@')[1] ?? '');
      if (name === 'hs_analytics_source' && origin.changeSource !== 'ANALYTICS') {
        derived.set('hs_analytics_source_data_1', '');
        derived.set('hs_analytics_source_data_2', '');
      }
    }
    for (const [name, value] of derived) if (this.setValue(type, record, name, value, CALCULATED, at)) changed.push(name);
    if (changed.length === 0 && !isNew) return;
    record.updatedAt = at;
    this.setValue(type, record, OBJECT_TYPES[type].modifiedProperty, new Date(at).toISOString(), CALCULATED, at);
    for (const name of changed) {
      const propertyValue = record.properties[name] ?? '';
      const by = derived.has(name) ? CALCULATED : origin;
      this.emit({
        objectType: type,
        kind: 'propertyChange',
        objectId: record.id,
        occurredAt: at,
        origin: by,
        propertyName: name,
        propertyValue,
      });
    }
  }

  /** Sets one value with a history entry; false when the value did not change. */
  private setValue(type: ObjectTypeName, record: CrmRecord, name: string, value: string, origin: ChangeOrigin, at: number): boolean {
    const next = value === '' ? undefined : value;
    if (record.properties[name] === next) return false;
    this.table(type).setValue(record, name, next);
    const version: PropertyVersion = { value, timestamp: at, sourceType: origin.changeSource };
    if (origin.sourceId !== undefined) version.sourceId = origin.sourceId;
    if (origin.updatedByUserId !== undefined) version.updatedByUserId = origin.updatedByUserId;
    // Bookkeeping properties change on every write; one version is all anyone reads of them.
    const info = OBJECT_TYPES[type];
    if (name === info.modifiedProperty || name === info.createdProperty || name === 'hs_object_id') {
      record.history[name] = [version];
      return true;
    }
    const limit = this.config.propertyHistoryLimit;
    if (limit === 0) return true;
    const history = (record.history[name] ??= []);
    history.unshift(version);
    if (history.length > limit) history.length = limit;
    return true;
  }
}
