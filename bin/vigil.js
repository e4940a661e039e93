#!/usr/bin/env node
// The `vigil` command. `npm ci` compiles the TypeScript to dist/ (the prepare script); from a
// checkout without dist/ it falls back to running the sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (existsSync(compiled)) {
  await import(compiled);
} else {
  await import('tsx/esm');
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
