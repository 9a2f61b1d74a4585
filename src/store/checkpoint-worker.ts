// Folds findings.db's write-ahead log into the database file when asked (see WalCheckpointer).

import { parentPort, workerData } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import { SqliteDatabase } from './sqlite-driver.js';

const db = new SqliteDatabase(workerData.file as string);
db.pragma('busy_timeout = 10000');
parentPort!.on('message', () => {
  try {
    // PASSIVE never blocks the console's readers or the next sync; frames a reader still needs
    // stay in the log until the next checkpoint.
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Harmless: the log keeps the data, and the next checkpoint (or closing the store) folds it in.
  }
  parentPort!.postMessage('done');
});
