/**
 * Server-side query cursors behind `nextRecordsUrl` (`/query/01g…-2000`). Like Salesforce, a user
 * keeps at most 10 open cursors (the oldest goes first) and an idle cursor expires after 15 minutes.
 */
import { randomBytes } from 'node:crypto';
import { httpError } from './errors.ts';
import { KEY_PREFIXES } from './ids.ts';

const MAX_CURSORS_PER_USER = 10;
const IDLE_EXPIRY_MS = 15 * 60_000;

export const DEFAULT_BATCH_SIZE = 2000;
export const MIN_BATCH_SIZE = 200;

interface Cursor {
  id: string;
  userId: string;
  /** `query` or `tooling/query`: a locator only continues on the API that opened it. */
  resource: string;
  records: Record<string, unknown>[];
  batchSize: number;
  lastUsed: number;
}

export interface QueryPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Record<string, unknown>[];
}

/** Reads `Sforce-Query-Options: batchSize=n` (a hint clamped to 200–2000, as Salesforce does). */
export function batchSizeFrom(header: string | undefined): number {
  const m = /batchSize\s*=\s*(\d+)/i.exec(header ?? '');
  if (!m) return DEFAULT_BATCH_SIZE;
  return Math.min(DEFAULT_BATCH_SIZE, Math.max(MIN_BATCH_SIZE, Number(m[1])));
}

export class QueryCursors {
  private readonly cursors = new Map<string, Cursor>();

  constructor(private readonly now: () => number) {}

  /** The first page of a result; opens a cursor when more pages follow. */
  open(
    userId: string,
    resource: string,
    urlBase: string,
    records: Record<string, unknown>[],
    totalSize: number,
    batchSize: number,
  ): QueryPage {
    if (records.length <= batchSize) return { totalSize, done: true, records };
    const cursor: Cursor = {
      id: `${KEY_PREFIXES.QueryLocator}${randomBytes(12)
        .toString('base64url')
        .replace(/[^A-Za-z0-9]/g, 'x')
        .slice(0, 15)}`,
      userId,
      resource,
      records,
      batchSize,
      lastUsed: this.now(),
    };
    this.evict(userId);
    this.cursors.set(cursor.id, cursor);
    return {
      totalSize,
      done: false,
      nextRecordsUrl: `${urlBase}/${resource}/${cursor.id}-${batchSize}`,
      records: records.slice(0, batchSize),
    };
  }

  /** The page at a locator (`01g…-<offset>`); INVALID_QUERY_LOCATOR when it is unknown or expired. */
  next(userId: string, resource: string, urlBase: string, locator: string): QueryPage {
    const m = /^(01g[A-Za-z0-9]{15})-(\d+)$/.exec(locator);
    const cursor = m ? this.cursors.get(m[1] ?? '') : undefined;
    const offset = Number(m?.[2]);
    if (
      !cursor ||
      cursor.userId !== userId ||
      cursor.resource !== resource ||
      this.now() - cursor.lastUsed > IDLE_EXPIRY_MS ||
      offset > cursor.records.length
    ) {
      throw httpError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    }
    cursor.lastUsed = this.now();
    const end = offset + cursor.batchSize;
    const records = cursor.records.slice(offset, end);
    if (end >= cursor.records.length) {
      this.cursors.delete(cursor.id);
      return { totalSize: cursor.records.length, done: true, records };
    }
    return { totalSize: cursor.records.length, done: false, nextRecordsUrl: `${urlBase}/${resource}/${cursor.id}-${end}`, records };
  }

  clear(): void {
    this.cursors.clear();
  }

  private evict(userId: string): void {
    const now = this.now();
    for (const [id, c] of this.cursors) if (now - c.lastUsed > IDLE_EXPIRY_MS) this.cursors.delete(id);
    const mine = [...this.cursors.values()].filter((c) => c.userId === userId).sort((a, b) => a.lastUsed - b.lastUsed);
    while (mine.length >= MAX_CURSORS_PER_USER) {
      const oldest = mine.shift();
      if (oldest) this.cursors.delete(oldest.id);
    }
  }
}
