#!/usr/bin/env node
// The README's test command. Runs every test file under test/ with Node's test runner (TypeScript
// through tsx). Integration tests need a real Kafka broker: with KAFKA_BROKERS unset this script starts
// one (scripts/kafka-broker.mjs, jars from Maven Central) and stops it afterwards, also on failure.
// Tests under test/integration/registry/ also need a schema registry: with REGISTRY_URL unset and
// such a file selected, one is started too (scripts/schema-registry.mjs, built from Maven Central).
//
//   node scripts/run-tests.mjs                 all tests
//   node scripts/run-tests.mjs --unit          unit tests only (no broker)
//   node scripts/run-tests.mjs --integration   integration tests only
//   node scripts/run-tests.mjs FILE...         just these files
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const integrationOnly = args.includes('--integration');
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
const isRegistry = (f) => f.split(/[\\/]/).join('/').includes('integration/registry/');
const files = unitOnly ? all.filter((f) => !isIntegration(f)) : integrationOnly ? all.filter(isIntegration) : all;
const needsBroker = files.some(isIntegration);
const needsRegistry = files.some(isRegistry);

let broker;
let registry;
async function main() {
  const env = { ...process.env };
  // The dashboard's browser test needs Debian's Chromium; install it once, as the README promises
  // `npm test` works on a fresh clone (root and Debian's packages are there on these machines).
  if (files.some((f) => f.endsWith('dashboard.test.ts')) && !env.VIGIL_CHROMIUM && !existsSync('/usr/bin/chromium')) {
    console.log('# installing chromium for the dashboard test (scripts/install-chromium.sh)');
    spawnSync('bash', [join(root, 'scripts', 'install-chromium.sh')], { stdio: 'inherit' });
  }
  const startingBroker = (async () => {
    if (!needsBroker || env.KAFKA_BROKERS) return;
    const { startBroker } = await import('./kafka-broker.mjs');
    const started = Date.now();
    broker = await startBroker({ version: env.KAFKA_VERSION });
    env.KAFKA_BROKERS = broker.brokers;
    console.log(`# kafka ${broker.version} up at ${broker.brokers} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  })();
  // In parallel with the broker: both are JVMs that spend their start-up mostly waiting.
  const startingRegistry = (async () => {
    if (!needsRegistry || env.REGISTRY_URL) return;
    const { startRegistry } = await import('./schema-registry.mjs');
    const started = Date.now();
    registry = await startRegistry();
    env.REGISTRY_URL = registry.url;
    console.log(`# schema registry (Apicurio ${registry.version}) up at ${registry.url} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  })();
  const [brokerStart, registryStart] = await Promise.allSettled([startingBroker, startingRegistry]);
  if (brokerStart.status === 'rejected') throw brokerStart.reason;
  if (registryStart.status === 'rejected') throw registryStart.reason;
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
  await Promise.allSettled([broker?.stop(), registry?.stop()]);
}
process.exit(exitCode);
