// How `pg` hands SitePatch its numbers, in every thread that queries PostgreSQL (import this once):
// COUNT(*) and other 64-bit integers arrive as text by default, and sum() of a bigint is numeric;
// as numbers, they are what SQLite gives (every count SitePatch keeps fits a double exactly).

import pg from 'pg';

pg.types.setTypeParser(pg.types.builtins.INT8, (text) => Number(text));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (text) => Number(text));
