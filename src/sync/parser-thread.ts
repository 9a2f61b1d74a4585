// A parser thread (see parser-threads.ts): runs one job at a time, a share of a file export or a
// delta's pages, as the sync's thread asks.

import { parentPort } from 'node:worker_threads';
import type { ExportWorkerInput, FromWorker, ToWorker } from '../defender/export-protocol.js';
import { startExportJob } from '../defender/export-parser.js';
import { startChangesJob } from './change-parser.js';
import type { FromChangesReader, ToChangesReader } from './changes-protocol.js';

export type ToParserThread = { type: 'export'; input: ExportWorkerInput } | ToWorker | ToChangesReader;

const port = parentPort!;
const post = (message: FromWorker | FromChangesReader, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);
let exportJob: ReturnType<typeof startExportJob> | undefined;
let changesJob: ReturnType<typeof startChangesJob> | undefined;

port.on('message', (message: ToParserThread) => {
  switch (message.type) {
    case 'export':
      exportJob = startExportJob(message.input, post);
      break;
    case 'credit':
    case 'urls':
      exportJob?.receive(message);
      break;
    case 'begin':
      changesJob = startChangesJob(message.download, post);
      break;
    default:
      changesJob?.receive(message);
  }
});
