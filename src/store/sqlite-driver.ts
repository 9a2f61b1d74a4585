// The SQLite driver for the Node line this process runs on. better-sqlite3 12 wraps its objects
// with node::ObjectWrap, and Node 24.19 and later abort the process (an assertion in
// RemoveEnvironmentCleanupHook) when such an object is collected after teardown; 13 is built on
// Node-API and avoids it, but needs Node 22 or later (on Node 20 it crashes). The package keeps
// both: 12 as better-sqlite3, 13 under the alias better-sqlite3-v13. Their APIs are the same.

import { createRequire } from 'node:module';
import type SQLite from 'better-sqlite3';

const require = createRequire(import.meta.url);
const major = Number(process.versions.node.split('.')[0]);

/** better-sqlite3's Database class. */
export const SqliteDatabase = require(major >= 22 ? 'better-sqlite3-v13' : 'better-sqlite3') as typeof SQLite;
