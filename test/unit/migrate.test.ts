import { describe, expect, it } from 'vitest';
import { availableMigrations, splitStatements } from '../../src/store/migrate.ts';

describe('migration scripts', () => {
  it('splits a script into statements and drops comment lines', () => {
    expect(splitStatements('-- a comment\nCREATE TABLE a (x int);\n\nCREATE INDEX b ON a (x);\n')).toEqual([
      'CREATE TABLE a (x int)',
      'CREATE INDEX b ON a (x)',
    ]);
  });

  it('keeps semicolons inside a line', () => {
    expect(splitStatements("INSERT INTO t VALUES ('a;b');")).toEqual(["INSERT INTO t VALUES ('a;b')"]);
  });

  it('ships numbered migrations in order', () => {
    const names = availableMigrations();
    expect(names[0]).toBe('001_initial.sql');
    expect([...names].sort()).toEqual(names);
  });
});
