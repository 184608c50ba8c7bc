/**
 * The org's state: records, custom fields, automation config, API usage and OAuth tokens. Kept in
 * memory; when a state file is configured it is written atomically (temp file + rename), debounced and spaced so writing takes at most a tenth of the time,
 * and flushed on close. Writes go through a `Txn` so allOrNone requests and lead conversion can
 * roll back, and so change events reach automation only once committed.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { applyCampaignRollups } from './campaign-rollups.ts';
import { activeCurrencyCodes } from './currency.ts';
import { customFieldStateSchema, type CustomFieldState } from './custom-fields.ts';
import { KEY_PREFIXES, makeId } from './ids.ts';
import { deliveryLogEntrySchema, outboundRuleSchema, pendingNotificationSchema } from './outbound-rules.ts';
import { customFieldAccess, PERMISSION_OBJECTS } from './permission-objects.ts';
import { OrgSchema } from './schema.ts';
import { SALES_REP_IDS, seedTables } from './seed.ts';
import type { ChangeEvent, SfRecord } from './types.ts';

const fieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const orgStateSchema = z.object({
  generation: z.number().int(),
  nextId: z.number().int(),
  records: z.record(z.string(), z.record(z.string(), z.record(z.string(), fieldValue))),
  customFields: z.array(customFieldStateSchema),
  assignment: z.object({ active: z.boolean(), userIds: z.array(z.string()).nullable(), nextIndex: z.number().int() }),
  outboundRules: z.array(outboundRuleSchema),
  outboundQueue: z.array(pendingNotificationSchema),
  deliveries: z.array(deliveryLogEntrySchema),
  /** Calls per UTC hour bucket (epoch hours); the daily allowance is a rolling 24 h sum. */
  apiUsage: z.record(z.string(), z.number().int()),
  /** The org's currency setting (currency.ts); state files written before it existed are single-currency USD orgs. */
  currency: z
    .object({ multiCurrency: z.boolean(), corporateCurrency: z.string() })
    .default({ multiCurrency: false, corporateCurrency: 'USD' }),
  /** The fields whose history is tracked, per object (field-history.ts); none in state files written before it existed. */
  fieldHistory: z.record(z.string(), z.array(z.string())).default({}),
});

const tokenStateSchema = z.object({
  userId: z.string(),
  issuedAt: z.number(),
  expiresAt: z.number(),
  refreshToken: z.string().nullable(),
  /** `ui`: a person working in Salesforce (sandbox rep tokens); `api`: the connected app. */
  channel: z.enum(['api', 'ui']).default('api'),
});

const refreshTokenStateSchema = z.object({ userId: z.string(), clientId: z.string(), issuedAt: z.number(), scope: z.string() });

const tokenStoreSchema = z.object({
  access: z.record(z.string(), tokenStateSchema),
  refresh: z.record(z.string(), refreshTokenStateSchema),
});

const fileSchema = z.object({ version: z.literal(1), org: orgStateSchema, tokens: tokenStoreSchema });

export type OrgState = z.infer<typeof orgStateSchema>;
export type TokenState = z.infer<typeof tokenStateSchema>;
export type TokenStore = z.infer<typeof tokenStoreSchema>;

type ChangeListener = (events: ChangeEvent[]) => void;

const SAVE_DEBOUNCE_MS = 100;
/** A save may cost at most a tenth of the wall clock: a large org's state takes a while to write, and writing blocks the event loop. */
const SAVE_COST_FACTOR = 10;

interface ValueIndex {
  field: string;
  caseSensitive: boolean;
  ids: Map<unknown, Set<string>>;
}

function indexKey(index: ValueIndex, value: unknown): unknown {
  return typeof value === 'string' && !index.caseSensitive ? value.toLowerCase() : value;
}

function addToIndex(index: ValueIndex, value: unknown, id: string): void {
  if (value === null || value === undefined) return;
  const key = indexKey(index, value);
  const ids = index.ids.get(key);
  if (ids) ids.add(id);
  else index.ids.set(key, new Set([id]));
}

export class OrgStore {
  state: OrgState;
  /** Per table (a reset makes new tables), per field and case rule: value → ids. */
  private readonly valueIndexes = new WeakMap<Record<string, SfRecord>, Map<string, ValueIndex>>();
  tokens: TokenStore;
  schema: OrgSchema;
  private readonly userSchemas = new Map<string, OrgSchema>();
  private saveTimer: NodeJS.Timeout | undefined;
  private lastSaveAt = 0;
  private lastSaveCostMs = 0;
  private readonly listeners: ChangeListener[] = [];

  constructor(private readonly options: { stateFile: string | undefined; adminUsername: string; now: () => number; logger: Logger }) {
    const loaded = this.load();
    this.state = loaded?.org ?? this.freshState(1);
    this.tokens = loaded?.tokens ?? { access: {}, refresh: {} };
    this.schema = new OrgSchema(this.state.customFields, undefined, this.currencyCodes());
  }

  /** The active currencies of a multi-currency org; undefined in a single-currency org. */
  currencyCodes(): string[] | undefined {
    return this.state.currency.multiCurrency ? activeCurrencyCodes(this) : undefined;
  }

  private load(): z.infer<typeof fileSchema> | undefined {
    const file = this.options.stateFile;
    if (!file || !existsSync(file)) return undefined;
    const parsed = fileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) {
      this.options.logger.warn({ file, issue: parsed.error.issues[0] }, 'salesforce sandbox: state file unreadable, starting fresh');
      return undefined;
    }
    return parsed.data;
  }

  private freshState(generation: number): OrgState {
    return {
      generation,
      nextId: 1,
      records: seedTables(this.options.adminUsername, this.options.now()),
      customFields: [],
      assignment: { active: true, userIds: [...SALES_REP_IDS], nextIndex: 0 },
      outboundRules: [],
      outboundQueue: [],
      deliveries: [],
      apiUsage: {},
      currency: { multiCurrency: false, corporateCurrency: 'USD' },
      fieldHistory: {},
    };
  }

  /** Wipes org data (records, custom fields, rules, usage) but keeps issued OAuth tokens valid. */
  reset(): void {
    this.state = this.freshState(this.state.generation + 1);
    this.refreshSchema();
    this.markDirty();
  }

  refreshSchema(): void {
    this.schema = new OrgSchema(this.state.customFields, undefined, this.currencyCodes());
    this.userSchemas.clear();
  }

  /**
   * The org's metadata as `userId` sees it through the API: custom fields filtered by that user's
   * field-level security (permissions.ts). Cached per user until fields or permissions change.
   */
  schemaFor(userId: string): OrgSchema {
    let schema = this.userSchemas.get(userId);
    if (!schema) {
      const access = customFieldAccess((type) => Object.values(this.table(type)).filter((r) => r.IsDeleted !== true), userId);
      schema = new OrgSchema(
        this.state.customFields,
        (object, field) => access.get(`${object}.${field}`.toLowerCase()) ?? 'none',
        this.currencyCodes(),
      );
      this.userSchemas.set(userId, schema);
    }
    return schema;
  }

  /**
   * Drops the per-user views after a write (or rollback) to a permission object, and rebuilds the
   * schema after one to a CurrencyType (the active currencies are CurrencyIsoCode's picklist).
   */
  permissionsChanged(type: string): void {
    if (type === 'CurrencyType') this.refreshSchema();
    else if (PERMISSION_OBJECTS.has(type)) this.userSchemas.clear();
  }

  setCustomFields(next: CustomFieldState[]): void {
    this.state.customFields = next;
    this.refreshSchema();
    this.markDirty();
  }

  newId(prefix: string): string {
    const id = makeId(prefix, this.state.generation, this.state.nextId);
    this.state.nextId += 1;
    this.markDirty();
    return id;
  }

  newRecordId(type: string): string {
    const prefix = (KEY_PREFIXES as Record<string, string>)[type];
    if (!prefix) throw new Error(`no key prefix for ${type}`);
    return this.newId(prefix);
  }

  table(type: string): Record<string, SfRecord> {
    const existing = this.state.records[type];
    if (existing) return existing;
    const created: Record<string, SfRecord> = {};
    this.state.records[type] = created;
    return created;
  }

  get(type: string, id: string): SfRecord | undefined {
    return this.state.records[type]?.[id];
  }

  /**
   * Records of `type` that may hold `value` in `field` (compared as the field compares: text
   * case-insensitive unless case-sensitive), from an index built on first use and kept by `Txn.put`.
   * A superset: rolled-back and overwritten values stay listed, so callers check each record.
   * Unique-value checks and upserts by external id stay O(1) in a table of 100,000s of Leads.
   */
  recordsWithValue(type: string, field: string, caseSensitive: boolean, value: unknown): SfRecord[] {
    const table = this.table(type);
    let indexes = this.valueIndexes.get(table);
    if (!indexes) {
      indexes = new Map();
      this.valueIndexes.set(table, indexes);
    }
    const key = `${field}|${caseSensitive ? 'case' : 'nocase'}`;
    let index = indexes.get(key);
    if (!index) {
      index = { field, caseSensitive, ids: new Map() };
      for (const record of Object.values(table)) addToIndex(index, record[field], String(record.Id));
      indexes.set(key, index);
    }
    const ids = index.ids.get(indexKey(index, value));
    if (!ids) return [];
    return [...ids].flatMap((id) => (table[id] ? [table[id]] : []));
  }

  /** Keeps the value indexes of a table current after a write. */
  indexWrite(type: string, record: SfRecord): void {
    const indexes = this.valueIndexes.get(this.table(type));
    if (!indexes) return;
    for (const index of indexes.values()) addToIndex(index, record[index.field], String(record.Id));
  }

  /** Finds a record of any of the given types by id. */
  find(id: string, types: readonly string[]): { type: string; record: SfRecord } | undefined {
    for (const type of types) {
      const record = this.get(type, id);
      if (record) return { type, record };
    }
    return undefined;
  }

  txn(): Txn {
    return new Txn(this);
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** Publishes a committed transaction's events and schedules a save. */
  commit(events: ChangeEvent[]): void {
    this.markDirty();
    if (events.length === 0) return;
    for (const listener of this.listeners) listener(events);
  }

  markDirty(): void {
    if (!this.options.stateFile || this.saveTimer) return;
    const wait = Math.max(SAVE_DEBOUNCE_MS, this.lastSaveAt + this.lastSaveCostMs * SAVE_COST_FACTOR - Date.now());
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, wait);
    this.saveTimer.unref();
  }

  /** Writes the state now (if persistence is on) and cancels a pending debounced write. */
  flush(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.save();
  }

  private save(): void {
    const file = this.options.stateFile;
    if (!file) return;
    const started = Date.now();
    try {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ version: 1, org: this.state, tokens: this.tokens }));
      renameSync(tmp, file);
    } catch (error) {
      this.options.logger.error({ err: error, file }, 'salesforce sandbox: could not write state file');
    }
    this.lastSaveAt = Date.now();
    this.lastSaveCostMs = this.lastSaveAt - started;
  }
}

interface Savepoint {
  undo: number;
  events: number;
}

/** A unit of work: record writes that can roll back, and the change events they produce. */
export class Txn {
  private readonly undo: Array<() => void> = [];
  readonly events: ChangeEvent[] = [];

  constructor(readonly store: OrgStore) {}

  put(type: string, record: SfRecord): void {
    const table = this.store.table(type);
    const id = String(record.Id);
    const previous = table[id];
    table[id] = record;
    this.store.indexWrite(type, record);
    this.store.permissionsChanged(type);
    this.undo.push(() => {
      if (previous) table[id] = previous;
      else delete table[id];
      this.store.permissionsChanged(type);
    });
    applyCampaignRollups(this, type, record, previous);
  }

  /** Registers an extra undo step (e.g. a round-robin cursor that advanced). */
  onRollback(step: () => void): void {
    this.undo.push(step);
  }

  emit(event: ChangeEvent): void {
    this.events.push(event);
  }

  savepoint(): Savepoint {
    return { undo: this.undo.length, events: this.events.length };
  }

  rollbackTo(point: Savepoint): void {
    while (this.undo.length > point.undo) this.undo.pop()?.();
    this.events.length = point.events;
  }

  rollback(): void {
    this.rollbackTo({ undo: 0, events: 0 });
  }

  commit(): void {
    this.store.commit([...this.events]);
    this.undo.length = 0;
    this.events.length = 0;
  }
}
