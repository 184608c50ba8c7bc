/**
 * The org's change data capture event bus: every committed create, update and delete of a Lead,
 * Contact, Opportunity, Task or Event becomes an Avro-encoded change event with a real-shaped
 * `ChangeEventHeader` (one transactionKey per commit, sequenceNumber within it), kept for 72 hours
 * on the org's clock and numbered by replay ids (opaque 8-byte values here). In memory: a restart
 * of the sandbox starts an empty bus, as if the retention had passed.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SandboxConfig } from '../sandbox-config.ts';
import type { OrgStore } from '../state-store.ts';
import type { ChangeEvent, FieldValue } from '../types.ts';
import { changeSchemaFor, encodeChangeEvent, type ChangeSchema, type ChangeType } from './change-schema.ts';
import { changeOriginNow } from './origin.ts';
import { encodeFieldBitmap } from '../../../crm/salesforce/pubsub/bitmap.ts';
import type { ProducerEvent } from '../../../crm/salesforce/pubsub/proto.ts';

/** Platform events and change events are kept 72 h (Pub/Sub API guide, "Event Message Durability"). */
export const RETENTION_MS = 72 * 60 * 60 * 1000;

const CDC_ENTITIES = ['Lead', 'Contact', 'Opportunity', 'Task', 'Event'] as const;

/** Channel → the entities whose events it carries: one per object, and `/data/ChangeEvents` for all. */
export const CHANNELS: ReadonlyMap<string, readonly string[]> = new Map([
  ...CDC_ENTITIES.map((e): [string, readonly string[]] => [`/data/${e}ChangeEvent`, [e]]),
  ['/data/ChangeEvents', CDC_ENTITIES],
]);

/** Fault knobs of the Pub/Sub API (`/__sandbox/pubsub/faults`). */
export const pubSubFaultSchema = z.strictObject({
  /** The next subscription stream fails with UNAVAILABLE after delivering this many events (once). */
  dropStreamAfter: z.number().int().min(0).optional(),
  /** Each FetchResponse waits this long: a slow link, so a consumer falls behind. */
  delayMs: z.number().int().min(0).max(60_000).optional(),
  /** Every CUSTOM replay id is refused as outside the retention window. */
  expireReplayIds: z.boolean().optional(),
  /** The next this-many changes are published as gap events (`GAP_*`: header only, re-read the records). */
  gapEvents: z.number().int().min(1).optional(),
  /** How long a stream with nothing to deliver waits before its keepalive (default 270 s, as the service). */
  keepaliveMs: z.number().int().min(20).max(270_000).optional(),
});
export type PubSubFaults = z.infer<typeof pubSubFaultSchema>;

export interface StoredEvent {
  seq: bigint;
  entityName: string;
  committedAt: number;
  event: ProducerEvent;
}

export function replayIdOf(seq: bigint): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(seq);
  return buffer;
}

/** The sequence behind a replay id, or undefined when the bytes are not one of ours. */
export function seqOfReplayId(replayId: Buffer): bigint | undefined {
  return replayId.length === 8 ? replayId.readBigUInt64BE() : undefined;
}

const GAP_OF: Record<ChangeEvent['kind'], ChangeType> = { create: 'GAP_CREATE', update: 'GAP_UPDATE', delete: 'GAP_DELETE' };
const TYPE_OF: Record<ChangeEvent['kind'], ChangeType> = { create: 'CREATE', update: 'UPDATE', delete: 'DELETE' };

export class ChangeEventBus {
  private events: StoredEvent[] = [];
  private nextSeq = 1n;
  /** Events up to this sequence are gone (past retention). */
  private purgedThrough = 0n;
  private commitNumber = 0;
  private readonly schemas = new Map<string, ChangeSchema>();
  private readonly listeners = new Set<() => void>();
  faults: PubSubFaults = {};

  constructor(
    private readonly store: OrgStore,
    private readonly config: SandboxConfig,
  ) {}

  start(): void {
    this.store.onChange((events) => this.publish(events));
  }

  /** The current schema of an entity's change event (a new id once its fields change). */
  schemaOf(entityName: string): ChangeSchema {
    const schema = changeSchemaFor(entityName, this.store.schema.object(entityName), this.schemas);
    this.schemas.set(schema.id, schema);
    return schema;
  }

  schemaById(id: string): ChangeSchema | undefined {
    return this.schemas.get(id);
  }

  /** Wakes the listener after each publish; returns the unsubscribe. */
  onPublish(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  latestSeq(): bigint {
    return this.nextSeq - 1n;
  }

  /** The sequence an EARLIEST subscription starts after: everything still retained follows it. */
  earliestSeq(): bigint {
    this.prune();
    return this.purgedThrough;
  }

  /** Whether a CUSTOM replay id can be resumed from: it names a retained event (or the very last one). */
  isReplayable(seq: bigint | undefined): boolean {
    this.prune();
    if (seq === undefined || this.faults.expireReplayIds === true) return false;
    return seq > this.purgedThrough && seq <= this.latestSeq();
  }

  /** Whether the channel has a retained event after `afterSeq`. */
  hasAfter(channel: string, afterSeq: bigint): boolean {
    return this.readAfter(channel, afterSeq, 1).length > 0;
  }

  /** Up to `limit` retained events after `afterSeq` on the channel, in commit order. */
  readAfter(channel: string, afterSeq: bigint, limit: number): StoredEvent[] {
    this.prune();
    const entities = CHANNELS.get(channel) ?? [];
    const out: StoredEvent[] = [];
    for (const stored of this.events) {
      if (out.length >= limit) break;
      if (stored.seq > afterSeq && entities.includes(stored.entityName)) out.push(stored);
    }
    return out;
  }

  private prune(): void {
    const horizon = this.config.now() - RETENTION_MS;
    const keepFrom = this.events.findIndex((e) => e.committedAt >= horizon);
    const dropped = keepFrom === -1 ? this.events : this.events.slice(0, keepFrom);
    if (dropped.length === 0) return;
    this.purgedThrough = dropped[dropped.length - 1]?.seq ?? this.purgedThrough;
    this.events = keepFrom === -1 ? [] : this.events.slice(keepFrom);
  }

  private publish(changes: ChangeEvent[]): void {
    const relevant = changes.filter((c) => (CDC_ENTITIES as readonly string[]).includes(c.type));
    if (relevant.length === 0) return;
    const transactionKey = randomUUID();
    const changeOrigin = changeOriginNow();
    const committedAt = this.config.now();
    const commitNumber = ++this.commitNumber;
    relevant.forEach((change, index) => {
      const schema = this.schemaOf(change.type);
      const gap = this.takeGap();
      const { values, changedFields, nulledFields } = gap
        ? { values: {}, changedFields: [], nulledFields: [] }
        : this.dataOf(change, schema);
      const header = {
        entityName: change.type,
        recordIds: [change.id],
        changeType: (gap ? GAP_OF : TYPE_OF)[change.kind],
        changeOrigin,
        transactionKey,
        sequenceNumber: index + 1,
        commitTimestamp: committedAt,
        commitNumber,
        commitUser: change.userId,
        nulledFields,
        diffFields: [],
        changedFields,
      };
      const seq = this.nextSeq++;
      const event: ProducerEvent = {
        id: randomUUID(),
        schema_id: schema.id,
        payload: encodeChangeEvent(schema, header, values),
        headers: [],
      };
      this.events.push({ seq, entityName: change.type, committedAt, event });
    });
    for (const listener of this.listeners) listener();
  }

  private takeGap(): boolean {
    const { gapEvents = 0, ...rest } = this.faults;
    if (gapEvents === 0) return false;
    this.faults = gapEvents > 1 ? { ...rest, gapEvents: gapEvents - 1 } : rest;
    return true;
  }

  /**
   * A create carries every non-null field; an update only the changed ones (plus LastModifiedDate,
   * which `changedFields` always lists); a delete none. Field lists travel as bitmaps.
   */
  private dataOf(change: ChangeEvent, schema: ChangeSchema) {
    const record = this.store.get(change.type, change.id) ?? {};
    const values: Record<string, FieldValue> = {};
    if (change.kind === 'create') {
      for (const [name, value] of Object.entries(record)) if (value !== null) values[name] = value;
      return { values, changedFields: [], nulledFields: [] };
    }
    if (change.kind === 'delete') return { values, changedFields: [], nulledFields: [] };
    const changed = [...new Set([...change.changedFields, 'LastModifiedDate'])];
    for (const name of changed) values[name] = record[name] ?? null;
    const nulled = changed.filter((name) => values[name] === null);
    return {
      values,
      changedFields: [encodeFieldBitmap(schema.fieldNames, changed)],
      nulledFields: nulled.length === 0 ? [] : [encodeFieldBitmap(schema.fieldNames, nulled)],
    };
  }
}
