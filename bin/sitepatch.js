#!/usr/bin/env node
// Entry point of the `sitepatch` command; the code lives in the compiled TypeScript under dist/.
import { main } from '../dist/src/cli/main.js';

await main(process.argv);
