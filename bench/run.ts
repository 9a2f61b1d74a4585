// `npm run bench -- <name> [--devices N]`: benchmarks that print numbers. The last line of each is
// one JSON object, so scripts can collect the results.

import { parseArgs } from 'node:util';
import { benchEmulator } from './emulator.js';
import { benchIngest } from './ingest.js';

const benches: Record<string, (options: { devices?: number }) => Promise<Record<string, unknown>>> = {
  emulator: benchEmulator,
  ingest: benchIngest,
};

const { positionals, values } = parseArgs({ allowPositionals: true, options: { devices: { type: 'string' } } });
const names = positionals.length ? positionals : Object.keys(benches);
for (const name of names) {
  const bench = benches[name];
  if (!bench) {
    console.error(`Unknown benchmark '${name}'. Available: ${Object.keys(benches).join(', ')}.`);
    process.exit(2);
  }
  const result = await bench({ devices: values.devices ? Number(values.devices) : undefined });
  console.log(JSON.stringify(result));
}
