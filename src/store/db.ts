/**
 * One database interface over two backends: Postgres through node-postgres when DATABASE_URL is
 * set, otherwise embedded PGlite persisted under DATA_DIR/pg. Same SQL, same migrations.
 */
import { mkdirSync } from 'node:fs';
import pg from 'pg';

export type Row = Record<string, unknown>;

export interface Queryable {
  /** Runs one parameterised statement ($1, $2, …) and returns its rows. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs `work` in one transaction; it commits when `work` resolves and rolls back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

// Counts and ids fit in a double here; money is stored as numeric and read as a number of the
// currency's unit (two decimals), which is exact for the amounts a CRM holds.
pg.types.setTypeParser(INT8_OID, (value: string) => Number(value));
pg.types.setTypeParser(NUMERIC_OID, (value: string) => Number(value));

/** Connects to Postgres with a pool. */
/** Runs `work` in one transaction when `db` can open one; a transaction's own handle runs it as it is. */
export function inTransaction<T>(db: Queryable, work: (tx: Queryable) => Promise<T>): Promise<T> {
  return 'transaction' in db && typeof db.transaction === 'function' ? (db as Db).transaction(work) : work(db);
}

export function connectPostgres(databaseUrl: string, poolSize = 10): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  // An idle client that loses its server emits here; the next query reports the failure.
  pool.on('error', () => undefined);
  return {
    kind: 'postgres',
    async query<T extends Row>(sql: string, params: readonly unknown[] = []) {
      const result = await pool.query(sql, params as unknown[]);
      return result.rows as T[];
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          async query<R extends Row>(sql: string, params: readonly unknown[] = []) {
            return (await client.query(sql, params as unknown[])).rows as R[];
          },
        };
        const value = await work(tx);
        await client.query('COMMIT');
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/** Opens embedded PGlite; `dataDir` undefined keeps it in memory (tests). */
export async function openPglite(dataDir?: string): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // Loaded only here: a process on Postgres (every worker in production) does not carry PGlite's
  // WebAssembly build (~45 MB of resident memory).
  const { PGlite, types: pgliteTypes } = await import('@electric-sql/pglite');
  const parsers = {
    [INT8_OID]: (value: string) => Number(value),
    [NUMERIC_OID]: (value: string) => Number(value),
    [pgliteTypes.TIMESTAMPTZ]: (value: string) => new Date(value),
  };
  const db = dataDir ? new PGlite(dataDir, { parsers }) : new PGlite({ parsers });
  await db.waitReady;
  return {
    kind: 'pglite',
    async query<T extends Row>(sql: string, params: readonly unknown[] = []) {
      return (await db.query<T>(sql, params as unknown[])).rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>) {
      return db.transaction(async (t) =>
        work({
          async query<R extends Row>(sql: string, params: readonly unknown[] = []) {
            return (await t.query<R>(sql, params as unknown[])).rows;
          },
        }),
      );
    },
    async close() {
      await db.close();
    },
  };
}
