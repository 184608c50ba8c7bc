import { AssociationIndex } from './associations.ts';
import { CampaignBook } from './campaigns.ts';
import type { AssociationEdge } from './associations.ts';
import { defaultGroups, defaultProperties } from './default-properties.ts';
import type {
  AccessTokenRecord,
  AuthorizationCode,
  CrmRecord,
  FormDefinition,
  ObjectTypeName,
  PropertyDefinition,
  PropertyGroup,
  RefreshTokenRecord,
  WebhookSettings,
  WebhookSubscription,
} from './model.ts';
import { OBJECT_TYPE_NAMES } from './object-types.ts';

/**
 * Records of one object type: by id, in id order (ids grow monotonically, so paging is a binary
 * search), and by the value of each unique property (email for contacts) for O(1) upserts.
 */
export class ObjectTable {
  private readonly records = new Map<string, CrmRecord>();
  private readonly order: string[] = [];
  private readonly unique = new Map<string, Map<string, string>>();

  constructor(uniqueProperties: Iterable<string>) {
    for (const name of uniqueProperties) this.unique.set(name, new Map());
  }

  get size(): number {
    return this.records.size;
  }

  get(id: string): CrmRecord | undefined {
    return this.records.get(id);
  }

  /** Adds a record whose id is larger than every id already present. */
  insert(record: CrmRecord): void {
    this.records.set(record.id, record);
    this.order.push(record.id);
    if (!record.archived) for (const name of this.unique.keys()) this.index(record, name, record.properties[name]);
  }

  /** Sets or clears (`undefined`) a current value, keeping the unique indexes right. */
  setValue(record: CrmRecord, name: string, value: string | undefined): void {
    const index = this.unique.get(name);
    const previous = record.properties[name];
    if (index !== undefined && previous !== undefined && index.get(previous.toLowerCase()) === record.id) {
      index.delete(previous.toLowerCase());
    }
    if (value === undefined) delete record.properties[name];
    else record.properties[name] = value;
    if (!record.archived) this.index(record, name, value);
  }

  /** The live record holding a unique value (case-insensitive, like HubSpot emails). */
  findUnique(name: string, value: string): CrmRecord | undefined {
    const id = this.unique.get(name)?.get(value.toLowerCase());
    return id === undefined ? undefined : this.records.get(id);
  }

  isUnique(name: string): boolean {
    return this.unique.has(name);
  }

  /** Starts indexing a property created with `hasUniqueValue`. */
  addUniqueProperty(name: string): void {
    if (this.unique.has(name)) return;
    this.unique.set(name, new Map());
    for (const record of this.records.values()) if (!record.archived) this.index(record, name, record.properties[name]);
  }

  /** Marks a record archived and frees its unique values. */
  archive(record: CrmRecord, at: number): void {
    for (const [name, index] of this.unique) {
      const value = record.properties[name];
      if (value !== undefined && index.get(value.toLowerCase()) === record.id) index.delete(value.toLowerCase());
    }
    record.archived = true;
    record.archivedAt = at;
  }

  /** Brings an archived record back and indexes its unique values again. */
  unarchive(record: CrmRecord): void {
    record.archived = false;
    delete record.archivedAt;
    for (const name of this.unique.keys()) this.index(record, name, record.properties[name]);
  }

  /** Removes a record for good (GDPR delete). */
  purge(id: string): void {
    const record = this.records.get(id);
    if (record === undefined) return;
    if (!record.archived) this.archive(record, 0);
    this.records.delete(id);
    const position = this.position(id);
    if (this.order[position] === id) this.order.splice(position, 1);
  }

  /** Records in id order starting at `fromId` (inclusive); archived ones only when asked. */
  *scan(fromId: string | undefined, archived: boolean): Generator<CrmRecord> {
    for (let i = fromId === undefined ? 0 : this.position(fromId); i < this.order.length; i++) {
      const record = this.records.get(this.order[i] ?? '');
      if (record !== undefined && record.archived === archived) yield record;
    }
  }

  all(): IterableIterator<CrmRecord> {
    return this.records.values();
  }

  /** Index of the first id ≥ `id` (numeric order). */
  private position(id: string): number {
    const target = Number(id);
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (Number(this.order[mid]) < target) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private index(record: CrmRecord, name: string, value: string | undefined): void {
    if (value === undefined || value === '') return;
    const index = this.unique.get(name);
    if (index !== undefined) index.set(value.toLowerCase(), record.id);
  }
}

/** Everything the portal holds; persisted as one JSON snapshot. */
export interface StateSnapshot {
  version: 1;
  nextObjectId: number;
  nextSubscriptionId: number;
  nextEventId: number;
  objects: Record<ObjectTypeName, CrmRecord[]>;
  properties: Record<ObjectTypeName, PropertyDefinition[]>;
  groups: Record<ObjectTypeName, PropertyGroup[]>;
  associations: AssociationEdge[];
  webhooks: { settings: WebhookSettings | null; subscriptions: WebhookSubscription[] };
  oauth: { accessTokens: AccessTokenRecord[]; refreshTokens: RefreshTokenRecord[]; codes: AuthorizationCode[] };
  forms: FormDefinition[];
}

type PerType<T> = Record<ObjectTypeName, T>;

function perType<T>(make: (type: ObjectTypeName) => T): PerType<T> {
  return Object.fromEntries(OBJECT_TYPE_NAMES.map((type) => [type, make(type)])) as PerType<T>;
}

/**
 * The public app's webhook configuration: one target URL and one list of subscriptions for the
 * app, applied to every portal that installed it (Webhooks API v3 is keyed by app id, not portal:
 * https://developers.hubspot.com/docs/api/webhooks). Portals of one sandbox server share it.
 */
export class AppWebhookRegistration {
  settings: WebhookSettings | undefined;
  readonly subscriptions = new Map<string, WebhookSubscription>();
  nextSubscriptionId = 1;
}

/** The in-memory portal: CRM data, schema, OAuth grants, and the app's webhook configuration. */
export class SandboxStore {
  objects!: PerType<ObjectTable>;
  properties!: PerType<Map<string, PropertyDefinition>>;
  groups!: PerType<Map<string, PropertyGroup>>;
  readonly associations = new AssociationIndex();
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly codes = new Map<string, AuthorizationCode>();
  readonly forms = new Map<string, FormDefinition>();
  /** Marketing campaigns and the portal's Marketing Hub tier (in memory only). */
  readonly campaignBook = new CampaignBook();
  private nextObjectId = 101;
  private nextEventId = 1;

  /** `webhooks`: the app's registration, shared when another portal of the same server installed the app. */
  constructor(readonly webhooks = new AppWebhookRegistration()) {
    this.resetCrm();
  }

  get webhookSettings(): WebhookSettings | undefined {
    return this.webhooks.settings;
  }

  set webhookSettings(settings: WebhookSettings | undefined) {
    this.webhooks.settings = settings;
  }

  get subscriptions(): Map<string, WebhookSubscription> {
    return this.webhooks.subscriptions;
  }

  newObjectId(): string {
    return String(this.nextObjectId++);
  }

  newSubscriptionId(): string {
    return String(this.webhooks.nextSubscriptionId++);
  }

  newEventId(): number {
    return this.nextEventId++;
  }

  /** Empties CRM data and restores the default schema. */
  resetCrm(): void {
    const properties = defaultProperties();
    const groups = defaultGroups();
    this.properties = perType((type) => new Map(properties[type].map((p) => [p.name, p])));
    this.groups = perType((type) => new Map(groups[type].map((g) => [g.name, g])));
    this.objects = perType((type) => new ObjectTable(this.uniqueNames(type)));
    this.associations.clear();
    this.forms.clear();
    this.campaignBook.reset();
  }

  resetWebhooks(): void {
    this.webhookSettings = undefined;
    this.subscriptions.clear();
  }

  resetOauth(): void {
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.codes.clear();
  }

  snapshot(): StateSnapshot {
    const { version, nextObjectId, nextSubscriptionId, nextEventId, ...rest } = this.snapshotWithoutRecords();
    return { version, nextObjectId, nextSubscriptionId, nextEventId, objects: perType((type) => [...this.objects[type].all()]), ...rest };
  }

  /** Everything but the CRM records (the state file streams those one by one: a portal may hold millions). */
  snapshotWithoutRecords(): Omit<StateSnapshot, 'objects'> {
    return {
      version: 1,
      nextObjectId: this.nextObjectId,
      nextSubscriptionId: this.webhooks.nextSubscriptionId,
      nextEventId: this.nextEventId,
      properties: perType((type) => [...this.properties[type].values()]),
      groups: perType((type) => [...this.groups[type].values()]),
      associations: this.associations.toEdges(),
      webhooks: { settings: this.webhookSettings ?? null, subscriptions: [...this.subscriptions.values()] },
      oauth: {
        accessTokens: [...this.accessTokens.values()],
        refreshTokens: [...this.refreshTokens.values()],
        codes: [...this.codes.values()],
      },
      forms: [...this.forms.values()],
    };
  }

  /** Replaces the state with a snapshot; default properties missing from it are added back. */
  restore(snapshot: StateSnapshot): void {
    this.resetCrm();
    for (const type of OBJECT_TYPE_NAMES) {
      for (const property of snapshot.properties[type]) this.properties[type].set(property.name, property);
      for (const group of snapshot.groups[type]) this.groups[type].set(group.name, group);
      const table = new ObjectTable(this.uniqueNames(type));
      for (const record of [...snapshot.objects[type]].sort((a, b) => Number(a.id) - Number(b.id))) table.insert(record);
      this.objects[type] = table;
    }
    this.associations.load(snapshot.associations);
    this.webhookSettings = snapshot.webhooks.settings ?? undefined;
    this.subscriptions.clear();
    for (const subscription of snapshot.webhooks.subscriptions) this.subscriptions.set(subscription.id, subscription);
    this.resetOauth();
    for (const token of snapshot.oauth.accessTokens) this.accessTokens.set(token.token, token);
    for (const token of snapshot.oauth.refreshTokens) this.refreshTokens.set(token.token, token);
    for (const code of snapshot.oauth.codes) this.codes.set(code.code, code);
    for (const form of snapshot.forms) this.forms.set(form.guid, form);
    this.nextObjectId = snapshot.nextObjectId;
    this.webhooks.nextSubscriptionId = snapshot.nextSubscriptionId;
    this.nextEventId = snapshot.nextEventId;
  }

  private uniqueNames(type: ObjectTypeName): string[] {
    return [...this.properties[type].values()].filter((p) => p.hasUniqueValue).map((p) => p.name);
  }
}
