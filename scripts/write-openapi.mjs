// Writes openapi/beia.openapi.json: the contract as OpenAPI 3.1, from the build (dist/contract) and
// package.json's version. `npm run openapi` builds first; test/openapi.test.ts fails when the
// committed file is not what the code gives now.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { openApiDocument } from '../dist/contract/index.js';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const folder = new URL('../openapi/', import.meta.url);
const target = new URL('beia.openapi.json', folder);
await mkdir(folder, { recursive: true });
await writeFile(target, `${JSON.stringify(openApiDocument(pkg.version), null, 2)}\n`);
console.log(`Wrote openapi/beia.openapi.json (OpenAPI 3.1.0, version ${pkg.version}).`);
