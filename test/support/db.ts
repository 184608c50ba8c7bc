/** Databases for tests: a fresh Postgres database per call, or in-memory PGlite. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { connectPostgres, openPglite, type Db } from '../../src/store/db.ts';
import { createDatabase } from './services.ts';

export type Backend = 'postgres' | 'pglite';
export const BACKENDS: readonly Backend[] = ['postgres', 'pglite'];

/** A fresh, empty database URL on the test PostgreSQL cluster. */
export function freshPostgresUrl(): string {
  return createDatabase(inject('postgresUrl'), `t_${randomBytes(6).toString('hex')}`);
}

/** Opens an empty database of the given backend. */
export async function openTestDb(backend: Backend): Promise<Db> {
  return backend === 'postgres' ? connectPostgres(freshPostgresUrl(), 4) : openPglite();
}
