// Runs a wasm32-wasip1 program under Node's WASI (stdout passes through).
// Usage: node --no-warnings .ci/run_wasi.mjs program.wasm
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { argv } from 'node:process';

const wasi = new WASI({ version: 'preview1', args: [], env: {} });
const wasm = await WebAssembly.compile(await readFile(argv[2]));
const instance = await WebAssembly.instantiate(wasm, wasi.getImportObject());
wasi.start(instance);
