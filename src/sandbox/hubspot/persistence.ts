import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { StateSnapshot, SandboxStore } from './store.ts';

const objectTypes = <T extends z.ZodType>(schema: T) =>
  z.object({ contacts: schema, companies: schema, deals: schema, notes: schema });

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

/** Reads a state file; `undefined` when it does not exist yet. Throws on a corrupt file. */
export async function loadSnapshot(file: string): Promise<StateSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = snapshotSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`HubSpot sandbox state file ${file} is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data as StateSnapshot;
}

const DEBOUNCE_MS = 200;
/** A write may cost at most a tenth of the wall clock (large portals serialize for a while). */
const COST_FACTOR = 10;

/**
 * Write-behind persistence: the first change after a write schedules the next one 200 ms later
 * (later changes ride along), spaced so serializing never takes more than a tenth of the time.
 * The snapshot goes to a temp file that is renamed over the state file, so a crash never leaves
 * a half-written file.
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
    const started = Date.now();
    const json = JSON.stringify(this.store.snapshot());
    this.lastCostMs = Date.now() - started;
    this.lastWriteAt = Date.now();
    this.writing = this.writing.then(() => this.write(json)).catch((error: unknown) => {
      this.logger.error({ err: error, file: this.file }, 'hubspot sandbox: writing state failed');
    });
    return this.writing;
  }

  /** Final flush; later changes are not written. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async write(json: string): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    await writeFile(temp, json, 'utf8');
    await rename(temp, this.file);
  }
}
