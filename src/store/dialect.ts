// What differs between the two stores' SQL: the migrations and queries that run on both SQLite
// (the embedded default) and PostgreSQL (SITEPATCH_DATABASE_URL) ask here instead of branching on
// their own. On SQLite every helper gives exactly the SQL the store has always had, so released
// migrations stay what they were.

import { PostgresAdapter, type ColumnDataType, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

export const isPostgres = (db: Kysely<any>) => db.getExecutor().adapter instanceof PostgresAdapter;

/** An integer key the database numbers: SQLite's INTEGER PRIMARY KEY AUTOINCREMENT, PostgreSQL's identity column. */
export function autoId(db: Kysely<any>): [ColumnDataType, (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder] {
  return isPostgres(db)
    ? ['integer', (c) => c.primaryKey().generatedByDefaultAsIdentity()]
    : ['integer', (c) => c.primaryKey().autoIncrement()];
}

/** Bytes (sealed secrets): SQLite's BLOB, PostgreSQL's BYTEA. */
export const bytes = (db: Kysely<any>): ColumnDataType => (isPostgres(db) ? 'bytea' : 'blob');

/** An integer past 32 bits (milliseconds since 1970): SQLite's INTEGER holds 64 bits, PostgreSQL's needs BIGINT. */
export const bigInteger = (db: Kysely<any>): ColumnDataType => (isPostgres(db) ? 'bigint' : 'integer');
