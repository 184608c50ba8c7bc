import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ObjectTypeName } from './model.ts';
import { OBJECT_TYPE_NAMES } from './object-types.ts';
import type { StateSnapshot, SandboxStore } from './store.ts';

const objectTypes = <T extends z.ZodType>(schema: T) => z.object({ contacts: schema, companies: schema, deals: schema, notes: schema });

const versionSchema = z.object({
  value: z.string(),
  timestamp: z.number(),
  sourceType: z.string(),
  sourceId: z.string().optional(),
  sourceLabel: z.string().optional(),
  updatedByUserId: z.number().optional(),
});

const recordSchema = z.object({
  id: z.string(),
  properties: z.record(z.string(), z.string()),
  history: z.record(z.string(), z.array(versionSchema)),
  createdAt: z.number(),
  updatedAt: z.number(),
  archived: z.boolean(),
  archivedAt: z.number().optional(),
  mergedInto: z.string().optional(),
});

const propertySchema = z.object({
  name: z.string(),
  label: z.string(),
  type: z.enum(['string', 'number', 'date', 'datetime', 'enumeration', 'bool']),
  fieldType: z.string(),
  groupName: z.string(),
  description: z.string(),
  options: z.array(
    z.object({ label: z.string(), value: z.string(), displayOrder: z.number(), hidden: z.boolean(), description: z.string().optional() }),
  ),
  displayOrder: z.number(),
  hasUniqueValue: z.boolean(),
  hidden: z.boolean(),
  formField: z.boolean(),
  hubspotDefined: z.boolean(),
  calculated: z.boolean(),
  externalOptions: z.boolean(),
  readOnlyValue: z.boolean(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

const objectTypeName = z.enum(['contacts', 'companies', 'deals', 'notes']);

/** The state file's schema: a file that does not parse is refused at boot rather than half-loaded. */
const snapshotSchema = z.object({
  version: z.literal(1),
  nextObjectId: z.number().int(),
  nextSubscriptionId: z.number().int(),
  nextEventId: z.number().int(),
  objects: objectTypes(z.array(recordSchema)),
  properties: objectTypes(z.array(propertySchema)),
  groups: objectTypes(z.array(z.object({ name: z.string(), label: z.string(), displayOrder: z.number(), archived: z.boolean() }))),
  associations: z.array(z.tuple([objectTypeName, z.string(), objectTypeName, z.string(), z.array(z.number())])),
  webhooks: z.object({
    settings: z
      .object({
        targetUrl: z.string(),
        maxConcurrentRequests: z.number(),
        period: z.string().optional(),
        createdAt: z.number(),
        updatedAt: z.number(),
      })
      .nullable(),
    subscriptions: z.array(
      z.object({
        id: z.string(),
        eventType: z.string(),
        propertyName: z.string().optional(),
        active: z.boolean(),
        createdAt: z.number(),
        updatedAt: z.number(),
      }),
    ),
  }),
  oauth: z.object({
    accessTokens: z.array(
      z.object({
        token: z.string(),
        refreshToken: z.string(),
        hubId: z.number(),
        appId: z.number(),
        userId: z.number(),
        scopes: z.array(z.string()),
        expiresAt: z.number(),
      }),
    ),
    refreshTokens: z.array(
      z.object({ token: z.string(), hubId: z.number(), userId: z.number(), clientId: z.string(), scopes: z.array(z.string()) }),
    ),
    codes: z.array(z.object({ code: z.string(), redirectUri: z.string(), scopes: z.array(z.string()), expiresAt: z.number() })),
  }),
  forms: z.array(
    z.object({ guid: z.string(), name: z.string(), inlineMessage: z.string().optional(), redirectUri: z.string().optional() }),
  ),
});

/** The first line of a state file as `StatePersistence` writes it: every part but the records, then the records' object. */
const OBJECTS_OPENING = '"objects":{';
const RECORD_LIST = /^,?("contacts"|"companies"|"deals"|"notes"):\[$/;

/**
 * Reads a state file; `undefined` when it does not exist yet. Throws on a corrupt file. The file is
 * one JSON document laid out one record per line, so it is read line by line: a portal of a million
 * contacts is larger than the longest string V8 can hold. A file in another layout (written by
 * hand, or by an older sandbox) is parsed whole.
 */
export async function loadSnapshot(file: string): Promise<StateSnapshot | undefined> {
  try {
    await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let head: Record<string, unknown> | undefined;
  const whole: string[] = [];
  const objects: Record<ObjectTypeName, unknown[]> = { contacts: [], companies: [], deals: [], notes: [] };
  let current: unknown[] | undefined;
  let first = true;
  try {
    for await (const line of lines) {
      if (first) {
        first = false;
        if (line.startsWith('{') && line.endsWith(OBJECTS_OPENING)) head = JSON.parse(`${line}}}`) as Record<string, unknown>;
        else whole.push(line);
        continue;
      }
      if (head === undefined) {
        whole.push(line);
        continue;
      }
      const list = RECORD_LIST.exec(line);
      if (list) current = objects[JSON.parse(list[1] ?? '""') as ObjectTypeName];
      else if (line.startsWith('{') && current !== undefined) current.push(JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line));
    }
  } catch (error) {
    throw new Error(`HubSpot sandbox state file ${file} is invalid: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  let raw: unknown;
  try {
    raw = head === undefined ? JSON.parse(whole.join('\n')) : { ...head, objects };
  } catch (error) {
    throw new Error(`HubSpot sandbox state file ${file} is invalid: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const parsed = snapshotSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`HubSpot sandbox state file ${file} is invalid: ${z.prettifyError(parsed.error)}`);
  const snapshot = parsed.data as StateSnapshot;
  // Records created while the file was being written may carry ids past the counter written first.
  for (const type of OBJECT_TYPE_NAMES)
    for (const record of snapshot.objects[type]) snapshot.nextObjectId = Math.max(snapshot.nextObjectId, Number(record.id) + 1);
  return snapshot;
}

const DEBOUNCE_MS = 200;
/** A write may cost at most a tenth of the wall clock (large portals take a while to write). */
const COST_FACTOR = 10;
/** Records serialized per chunk; the event loop serves requests between chunks. */
const RECORDS_PER_CHUNK = 2_000;

/**
 * Write-behind persistence: the first change after a write schedules the next one 200 ms later
 * (later changes ride along), spaced so writing never takes more than a tenth of the time. The
 * state is streamed to a temp file, a chunk of records at a time (never one string of the whole
 * portal), which is renamed over the state file, so a crash never leaves a half-written file.
 */
export class StatePersistence {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastWriteAt = 0;
  private lastCostMs = 0;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly store: SandboxStore,
    private readonly logger: Logger,
  ) {}

  /** Notes that the state changed; the write happens shortly after. */
  markDirty(): void {
    if (this.closed || this.timer !== undefined) return;
    const wait = Math.max(DEBOUNCE_MS, this.lastWriteAt + this.lastCostMs * COST_FACTOR - Date.now());
    this.timer = setTimeout(() => void this.flush(), wait);
  }

  /** Writes the current state now (after any write already under way). */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing
      .then(async () => {
        const started = Date.now();
        await this.write();
        this.lastCostMs = Date.now() - started;
        this.lastWriteAt = Date.now();
      })
      .catch((error: unknown) => {
        this.logger.error({ err: error, file: this.file }, 'hubspot sandbox: writing state failed');
      });
    return this.writing;
  }

  /** Final flush; later changes are not written. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  /** One JSON document: the state but its records on the first line, then one record per line. */
  private async write(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    const handle = await open(temp, 'w');
    try {
      const head = JSON.stringify(this.store.snapshotWithoutRecords());
      await handle.write(`${head.slice(0, -1)},${OBJECTS_OPENING}\n`);
      for (const [index, type] of OBJECT_TYPE_NAMES.entries()) {
        await handle.write(`${index === 0 ? '' : ','}${JSON.stringify(type)}:[\n`);
        let chunk: string[] = [];
        let firstChunk = true;
        const writeChunk = async () => {
          await handle.write(`${firstChunk ? '' : ',\n'}${chunk.join(',\n')}`);
          firstChunk = false;
          chunk = [];
        };
        for (const record of this.store.objects[type].all()) {
          chunk.push(JSON.stringify(record));
          if (chunk.length >= RECORDS_PER_CHUNK) await writeChunk();
        }
        if (chunk.length > 0) await writeChunk();
        await handle.write('\n]\n');
      }
      await handle.write('}}\n');
    } finally {
      await handle.close();
    }
    await rename(temp, this.file);
  }
}
