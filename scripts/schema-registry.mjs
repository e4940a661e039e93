#!/usr/bin/env node
/**
 * A real Confluent-compatible schema registry for integration tests, without Docker: Apicurio
 * Registry 2.4.2.Final with in-memory storage, serving the Confluent API at `/apis/ccompat/v7`.
 *
 * The server is built once from Maven Central jars by `scripts/schema-registry/pom.xml` (Quarkus'
 * build step over Apicurio's published app jar; see the pom for the two artifacts Central lacks and
 * how they are worked around) into `.cache/apicurio-registry-<version>/build`. Karapace, the
 * registry the tests were first meant to use, is not published on PyPI.
 *
 *   node scripts/schema-registry.mjs [--port N]
 *       starts a registry, prints `REGISTRY_URL=http://127.0.0.1:PORT/apis/ccompat/v7` on stdout
 *       and runs until SIGINT/SIGTERM
 *   node scripts/schema-registry.mjs fetch
 *       only builds the server into the cache
 *
 * Environment: KAFKA_CACHE_DIR (cache root instead of <repo>/.cache, shared with the Kafka broker
 * script), JAVA_HOME (java to run). Needs `java` (17+) and `mvn` on PATH.
 */
/* global fetch, AbortSignal */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setInterval, clearInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The Apicurio Registry release that is built and run. */
export const APICURIO_VERSION = '2.4.2.Final';

/** Where Apicurio serves the Confluent schema registry API. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';

const SCRIPTS_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(SCRIPTS_DIR, '..');
const POM_FILE = path.join(SCRIPTS_DIR, 'schema-registry', 'pom.xml');
const RUNNER_JAR = 'apicurio-test-registry-0-runner.jar';
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 15_000;
const LOG_TAIL_LINES = 40;

function cacheRoot(cacheDir) {
  if (cacheDir) return path.resolve(cacheDir);
  return process.env.KAFKA_CACHE_DIR ? path.resolve(process.env.KAFKA_CACHE_DIR) : path.join(REPO_ROOT, '.cache');
}

function javaBinary() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function tail(text, lines = LOG_TAIL_LINES) {
  return text.split('\n').slice(-lines).join('\n').trimEnd();
}

function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
    child.on('error', (err) => {
      reject(err.code === 'ENOENT' ? new Error(`'${cmd}' not found on PATH (needed for the test schema registry)`) : err);
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

// Parallel test processes may all find a cold cache; only one of them may run Maven into it.
async function withDirLock(lockDir, fn) {
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      await fsp.mkdir(lockDir);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt(await fsp.readFile(path.join(lockDir, 'pid'), 'utf8').catch(() => ''), 10);
    const age = Date.now() - ((await fsp.stat(lockDir).catch(() => null))?.mtimeMs ?? Date.now());
    if ((owner && !pidAlive(owner)) || (!owner && age > 60_000)) {
      await fsp.rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir} (held by pid ${owner || '?'})`);
    await sleep(500);
  }
  await fsp.writeFile(path.join(lockDir, 'pid'), String(process.pid));
  try {
    return await fn();
  } finally {
    await fsp.rm(lockDir, { recursive: true, force: true });
  }
}

/**
 * Makes sure the registry server is built in the cache, running Maven only when it is missing.
 *
 * @param {{ cacheDir?: string }} [options] cacheDir overrides KAFKA_CACHE_DIR / `<repo>/.cache`.
 * @returns {Promise<string>} absolute path of the runnable jar.
 */
export async function ensureRegistryBuild(options = {}) {
  const baseDir = path.join(cacheRoot(options.cacheDir), `apicurio-registry-${APICURIO_VERSION}`);
  const buildDir = path.join(baseDir, 'build');
  const jar = path.join(buildDir, RUNNER_JAR);
  const marker = path.join(baseDir, 'complete.json');
  if (fs.existsSync(marker) && fs.existsSync(jar)) return jar;
  await fsp.mkdir(baseDir, { recursive: true });
  return withDirLock(path.join(baseDir, '.lock'), async () => {
    if (fs.existsSync(marker) && fs.existsSync(jar)) return jar;
    await fsp.rm(buildDir, { recursive: true, force: true });
    const started = Date.now();
    const mvn = await run('mvn', ['-q', '-B', '-Dstyle.color=never', '-f', POM_FILE, 'package', `-Dregistry.build.dir=${buildDir}`], { cwd: REPO_ROOT });
    if (mvn.code !== 0 || !fs.existsSync(jar)) {
      throw new Error(`could not build Apicurio Registry ${APICURIO_VERSION} from Maven Central (mvn exit ${mvn.code}):\n${tail(mvn.output)}`);
    }
    await fsp.writeFile(marker, `${JSON.stringify({ version: APICURIO_VERSION, builtAt: new Date().toISOString(), buildMs: Date.now() - started }, null, 2)}\n`);
    return jar;
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const entry of live) entry.destroySync();
  });
}

// Exit hooks do not run when this process is SIGKILLed; a tiny shell loop outlives it and then
// kills the JVM and removes its folder.
function spawnWatchdog(javaPid, dir) {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -9 "$2" 2>/dev/null; sleep 1; rm -rf "$3"';
  try {
    const dog = spawn('/bin/sh', ['-c', script, 'vigil-registry-watchdog', String(process.pid), String(javaPid), dir], { stdio: 'ignore' });
    dog.on('error', () => {});
    dog.unref();
    return dog;
  } catch {
    return null;
  }
}

async function isServing(url) {
  try {
    const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts a schema registry on a free loopback port and resolves once its Confluent API answers.
 * The registry keeps everything in memory: every start is empty.
 *
 * @param {object} [options]
 * @param {string} [options.kafkaBrokers] accepted for a Kafka-backed registry (Karapace needs one);
 *   Apicurio's in-memory storage does not use it.
 * @param {number} [options.port] HTTP port; default a free one.
 * @param {string} [options.heap] JVM -Xmx (default "384m").
 * @param {number} [options.startTimeoutMs] readiness timeout (default 180000).
 * @param {string} [options.cacheDir] build cache root (default KAFKA_CACHE_DIR or `<repo>/.cache`).
 * @returns {Promise<{ url: string, port: number, version: string, logFile: string, startupMs: number,
 *   readonly pid: number | undefined, stop(): Promise<void> }>} `url` is the Confluent API's base
 *   URL (`http://127.0.0.1:PORT/apis/ccompat/v7`); stop() ends the JVM (SIGTERM, then SIGKILL after
 *   15 s) and removes its folder, and is idempotent.
 */
export async function startRegistry(options = {}) {
  const started = Date.now();
  const jar = await ensureRegistryBuild({ cacheDir: options.cacheDir });
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(jar, options, started);
    } catch (err) {
      if (options.port !== undefined || attempt >= 3 || !err.addressInUse) throw err;
    }
  }
}

async function launch(jar, options, started) {
  const port = options.port ?? (await freePort());
  const url = `http://${HOST}:${port}${CCOMPAT_PATH}`;
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'vigil-registry-'));
  const logFile = path.join(dir, 'registry.log');
  const fd = fs.openSync(logFile, 'a');
  let proc;
  try {
    proc = spawn(
      javaBinary(),
      [
        `-Xmx${options.heap ?? '384m'}`,
        // A short-lived test server: C1 only and a serial GC start faster on two cores.
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        `-Dquarkus.http.host=${HOST}`,
        `-Dquarkus.http.port=${port}`,
        // The prod profile opens 20 H2 connections up front; one in-memory client needs few.
        '-Dquarkus.datasource.jdbc.initial-size=1',
        '-Dquarkus.datasource.jdbc.min-size=1',
        '-jar',
        jar,
      ],
      { cwd: dir, stdio: ['ignore', fd, fd] },
    );
  } finally {
    fs.closeSync(fd);
  }
  proc.unref();
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve((exitInfo = { code, signal })));
    proc.once('error', (error) => resolve((exitInfo = { code: null, signal: null, error })));
  });
  const watchdog = proc.pid ? spawnWatchdog(proc.pid, dir) : null;
  const entry = {
    destroySync() {
      if (!exitInfo && proc.pid) {
        try {
          process.kill(proc.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      watchdog?.kill('SIGKILL');
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        /* runs inside the exit hook, which must not throw */
      }
    },
  };
  live.add(entry);
  installExitHook();

  let stopping = null;
  const stop = () => {
    stopping ??= (async () => {
      if (!exitInfo) {
        proc.ref();
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      watchdog?.kill('SIGKILL');
      live.delete(entry);
      await fsp.rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? START_TIMEOUT_MS);
  while (!(await isServing(url))) {
    if (exitInfo || Date.now() > deadline) {
      const log = await fsp.readFile(logFile, 'utf8').catch(() => '');
      const why = exitInfo
        ? exitInfo.error
          ? `could not be started (${exitInfo.error.message})`
          : `exited during start-up (code ${exitInfo.code}, signal ${exitInfo.signal})`
        : `did not answer within ${Math.round((options.startTimeoutMs ?? START_TIMEOUT_MS) / 1000)} s`;
      await stop();
      const err = new Error(`Apicurio Registry at ${url} ${why}. Last lines of its log:\n${tail(log) || '(empty)'}`);
      err.addressInUse = /Address already in use|Port \d+ seems to be in use/.test(log);
      throw err;
    }
    await Promise.race([exited, sleep(250)]);
  }
  return {
    url,
    port,
    version: APICURIO_VERSION,
    logFile,
    startupMs: Date.now() - started,
    get pid() {
      return exitInfo ? undefined : proc.pid;
    },
    stop,
  };
}

async function main(argv) {
  const command = argv.includes('fetch') ? 'fetch' : argv.includes('-h') || argv.includes('--help') ? 'help' : 'start';
  if (command === 'help') {
    console.log('usage: node scripts/schema-registry.mjs [--port N]\n       node scripts/schema-registry.mjs fetch');
    return;
  }
  const t0 = Date.now();
  if (command === 'fetch') {
    const jar = await ensureRegistryBuild();
    console.error(`Apicurio Registry ${APICURIO_VERSION} built at ${jar} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return;
  }
  const i = argv.findIndex((a) => a.startsWith('--port'));
  const port = i < 0 ? undefined : Number(argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1]);
  const registry = await startRegistry({ port });
  console.log(`REGISTRY_URL=${registry.url}`);
  console.error(`Apicurio Registry ${registry.version} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; log ${registry.logFile}; Ctrl-C to stop`);
  // The JVM child is unref'd, so something has to keep this process alive until a signal arrives.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await registry.stop();
  clearInterval(keepAlive);
}

const invokedDirectly = (() => {
  try {
    return Boolean(process.argv[1]) && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
