// Sync requests in a web process of a PostgreSQL install: "sync now" records the run and sends its
// job to the queue the workers take from (sync-queue.ts); the workers' schedule does the rest. A
// removed connection's exposure copy is purged at once: the purge is one transaction, which waits
// for a sync of the connection that is committing.

import type { ConnectionService } from '../connections/service.js';
import type { RunLog, SyncKind } from '../sync/runs.js';
import type { SyncRequests } from '../sync/service.js';
import type { SyncQueue } from './sync-queue.js';

export interface QueuedSyncDeps {
  runs: RunLog;
  connections: ConnectionService;
  queue: Pick<SyncQueue, 'send'>;
  purge(connectionId: string): Promise<number>;
  log: { info(o: object, msg: string): void; error(o: object, msg: string): void };
}

export function createQueuedSync({ runs, connections, queue, purge, log }: QueuedSyncDeps): SyncRequests {
  return {
    async request(connectionId: string, requested: SyncKind, trigger: string): Promise<string> {
      await connections.get(connectionId);
      const active = await runs.active(connectionId);
      if (active) return active.runId;
      const runId = await runs.create(connectionId, requested, trigger);
      await queue.send({ runId, connectionId, requested });
      return runId;
    },

    async purge(connectionId: string): Promise<void> {
      await purge(connectionId).then(
        (findings) => log.info({ connectionId, findings }, 'removed connection\'s findings purged'),
        (e: Error) => log.error({ err: e, connectionId }, 'purging a removed connection\'s findings failed'));
    },

    // The store keeps no remediations yet (issue 15): there is nothing to score again.
    rescoreRemediations(): void {},
  };
}
