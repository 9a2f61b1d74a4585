// `npm run bench -- <name> [--devices N]`: benchmarks that print numbers. The last line of each is
// one JSON object, so scripts can collect the results.
//
// The api benchmark also takes --duration S (seconds of load per endpoint, default 10),
// --connections N (concurrent connections, default 4) and --data-dir DIR (keep the loaded data
// in DIR; a later run with the same DIR measures again without loading). The ingest and api
// benchmarks also take --store postgres and --database-url URL (or SITEPATCH_BENCH_DATABASE_URL).

import { parseArgs } from 'node:util';
import { benchApi, type ApiBenchOptions } from './api.js';
import { benchContent } from './content.js';
import { benchEmulator } from './emulator.js';
import { benchIngest } from './ingest.js';

type BenchOptions = ApiBenchOptions;

const benches: Record<string, (options: BenchOptions) => Promise<Record<string, unknown>>> = {
  emulator: benchEmulator,
  ingest: benchIngest,
  api: benchApi,
  content: benchContent,
};

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    devices: { type: 'string' }, duration: { type: 'string' }, connections: { type: 'string' }, 'data-dir': { type: 'string' },
    store: { type: 'string' }, 'database-url': { type: 'string' },
  },
});
const number = (name: string, text: string | undefined) => {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value > 0)) {
    console.error(`--${name} expects a positive number, not '${text}'.`);
    process.exit(2);
  }
  return value;
};
const options: BenchOptions = {
  devices: number('devices', values.devices), duration: number('duration', values.duration),
  connections: number('connections', values.connections), dataDir: values['data-dir'],
  store: values.store, databaseUrl: values['database-url'] ?? process.env.SITEPATCH_BENCH_DATABASE_URL,
};
const names = positionals.length ? positionals : Object.keys(benches);
for (const name of names) {
  const bench = benches[name];
  if (!bench) {
    console.error(`Unknown benchmark '${name}'. Available: ${Object.keys(benches).join(', ')}.`);
    process.exit(2);
  }
  const result = await bench(options);
  console.log(JSON.stringify(result));
}
