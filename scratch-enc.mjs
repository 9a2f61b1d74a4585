import fs from 'node:fs';
import { RecordEncoder } from './dist/src/defender/records.js';
const page = JSON.parse(fs.readFileSync('/tmp/exp/delta.json', 'utf8')).value;
const toPascal = (r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k[0].toUpperCase() + k.slice(1), v]));
const pascal = page.map(toPascal).map(r => ({ ...r, OSPlatform: r.OsPlatform, OSVersion: r.OsVersion, OSArchitecture: r.OsArchitecture }));
for (let it = 0; it < 3; it++) {
  for (const [name, p] of [['camel', page], ['pascal', pascal]]) {
    const t = performance.now();
    const enc = new RecordEncoder(); const out = [];
    for (const r of p) enc.encode(r, out);
    console.log(name, (performance.now() - t).toFixed(1), out.length);
  }
}
