#!/usr/bin/env node
// The README's test command. Runs every test file under test/ with Node's test runner (TypeScript
// through tsx). Integration tests need a real Kafka broker: with KAFKA_BROKERS unset this script starts
// one (scripts/kafka-broker.mjs, jars from Maven Central) and stops it afterwards, also on failure.
//
//   node scripts/run-tests.mjs            all tests
//   node scripts/run-tests.mjs --unit     unit tests only (no broker)
//   node scripts/run-tests.mjs FILE...    just these files
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const explicit = args.filter((a) => !a.startsWith('--'));

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const all = explicit.length > 0 ? explicit : findTests(join(root, 'test'));
const isIntegration = (f) => f.split(/[\\/]/).includes('integration');
const files = unitOnly ? all.filter((f) => !isIntegration(f)) : all;
const needsBroker = files.some(isIntegration);

let broker;
async function main() {
  const env = { ...process.env };
  if (needsBroker && !env.KAFKA_BROKERS) {
    const { startBroker } = await import('./kafka-broker.mjs');
    const started = Date.now();
    broker = await startBroker({ version: env.KAFKA_VERSION });
    env.KAFKA_BROKERS = broker.brokers;
    console.log(`# kafka ${broker.version} up at ${broker.brokers} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }
  const code = await new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=300000', ...files],
      { cwd: root, env, stdio: 'inherit' },
    );
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
  });
  return code;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (err) {
  console.error(err);
} finally {
  if (broker) await broker.stop();
}
process.exit(exitCode);
