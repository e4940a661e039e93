#!/usr/bin/env node
/**
 * A real single-node Apache Kafka broker for integration tests, without Docker.
 *
 * The broker's jars come from Maven Central (`org.apache.kafka:kafka_2.13` plus an slf4j logging
 * backend, resolved through `scripts/kafka-pom.xml`) and are cached in `.cache/kafka-<version>/libs`.
 * Each broker runs in KRaft combined mode (broker + controller, node.id=1) on free loopback ports,
 * with its data, config and log in a fresh temporary directory.
 *
 *   node scripts/kafka-broker.mjs [--version X] [--port N] [--controller-port N]
 *       starts a broker, prints `KAFKA_BROKERS=127.0.0.1:PORT` on stdout and runs until SIGINT/SIGTERM
 *   node scripts/kafka-broker.mjs fetch [--version X]
 *       only downloads the jars into the cache
 *
 * Environment: KAFKA_VERSION (default version), KAFKA_CACHE_DIR (instead of <repo>/.cache),
 * JAVA_HOME (java to run; Kafka 4.x needs Java 17+). Needs `java` and `mvn` on PATH.
 */
import { spawn } from 'node:child_process';
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setInterval, clearInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Kafka version used when neither the `version` option nor KAFKA_VERSION is given. */
export const DEFAULT_KAFKA_VERSION = '3.9.2';

const SCRIPTS_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(SCRIPTS_DIR, '..');
const POM_FILE = path.join(SCRIPTS_DIR, 'kafka-pom.xml');
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 30_000;
const LOG_TAIL_LINES = 60;

function resolveVersion(version) {
  const v = String(version || process.env.KAFKA_VERSION || DEFAULT_KAFKA_VERSION).trim();
  // The version becomes part of a cache path and a Maven property, so only plain release names pass.
  if (!/^\d+\.\d+\.\d+(?:-[A-Za-z0-9.]+)?$/.test(v)) throw new Error(`invalid Kafka version ${JSON.stringify(v)}`);
  return v;
}

const majorOf = (version) => Number.parseInt(version, 10);
// Kafka 4.0 replaced its log4j 1.x (reload4j) logging with log4j2.
const usesLog4j2 = (version) => majorOf(version) >= 4;

function defaultCacheDir() {
  return process.env.KAFKA_CACHE_DIR ? path.resolve(process.env.KAFKA_CACHE_DIR) : path.join(REPO_ROOT, '.cache');
}

function javaBinary() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function tail(text, lines = LOG_TAIL_LINES) {
  return text.split('\n').slice(-lines).join('\n').trimEnd();
}

/** Runs a command to completion, collecting its output; rejects only if it cannot be started. */
function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', (err) => {
      reject(err.code === 'ENOENT' ? new Error(`'${cmd}' not found on PATH (needed to run the Kafka test broker)`) : err);
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
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

async function removeDir(dir) {
  await fsp.rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

// Parallel test processes may all find a cold cache; the lock keeps them from running Maven into the
// same folder at once (and from deleting a folder another process is already starting a broker from).
async function withDirLock(lockDir, fn) {
  const deadline = Date.now() + 15 * 60_000;
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
      await removeDir(lockDir);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir} (held by pid ${owner || '?'})`);
    await sleep(500);
  }
  await fsp.writeFile(path.join(lockDir, 'pid'), String(process.pid));
  try {
    return await fn();
  } finally {
    await removeDir(lockDir);
  }
}

async function isCacheComplete(libsDir, markerFile) {
  try {
    const { jars } = JSON.parse(await fsp.readFile(markerFile, 'utf8'));
    return Array.isArray(jars) && jars.length > 0 && jars.every((jar) => fs.existsSync(path.join(libsDir, jar)));
  } catch {
    return false;
  }
}

async function fetchJars(version, baseDir) {
  const libsDir = path.join(baseDir, 'libs');
  const marker = path.join(baseDir, 'complete.json');
  if (await isCacheComplete(libsDir, marker)) return libsDir;
  await fsp.mkdir(baseDir, { recursive: true });
  return withDirLock(path.join(baseDir, '.lock'), async () => {
    if (await isCacheComplete(libsDir, marker)) return libsDir;
    // Maven copies into a staging folder so a broken download never looks like a usable cache.
    const staging = path.join(baseDir, `libs.partial-${process.pid}`);
    await removeDir(staging);
    const mvn = await run(
      'mvn',
      [
        '-q',
        '-B',
        '-Dstyle.color=never',
        '-f',
        POM_FILE,
        'dependency:copy-dependencies',
        `-Dkafka.version=${version}`,
        `-Dkafka.logging=${usesLog4j2(version) ? 'log4j2' : 'reload4j'}`,
        '-DincludeScope=runtime',
        `-DoutputDirectory=${staging}`,
      ],
      { cwd: REPO_ROOT },
    );
    const jars = (await fsp.readdir(staging).catch(() => [])).filter((f) => f.endsWith('.jar')).sort();
    if (mvn.code !== 0 || !jars.includes(`kafka_2.13-${version}.jar`)) {
      await removeDir(staging);
      throw new Error(
        `could not fetch Kafka ${version} from Maven Central (mvn exit ${mvn.code}):\n${tail(mvn.stdout + mvn.stderr)}`,
      );
    }
    await fsp.rm(marker, { force: true });
    await removeDir(libsDir);
    await fsp.rename(staging, libsDir);
    await fsp.writeFile(marker, `${JSON.stringify({ version, jars, fetchedAt: new Date().toISOString() }, null, 2)}\n`);
    return libsDir;
  });
}

const jarFetches = new Map();

/**
 * Makes sure the jars of Kafka `version` (and its logging backend) are in the local cache, running
 * Maven against `scripts/kafka-pom.xml` only when the cache is missing or incomplete.
 *
 * @param {string} [version] Kafka release, e.g. "3.9.1" or "4.1.1"; defaults to KAFKA_VERSION or
 *   {@link DEFAULT_KAFKA_VERSION}.
 * @param {{ cacheDir?: string }} [options] cacheDir overrides KAFKA_CACHE_DIR / `<repo>/.cache`.
 * @returns {Promise<string>} absolute path of the `libs` folder (use it as `-cp '<libs>/*'`).
 */
export async function ensureKafkaJars(version, options = {}) {
  const v = resolveVersion(version);
  const baseDir = path.join(options.cacheDir ? path.resolve(options.cacheDir) : defaultCacheDir(), `kafka-${v}`);
  let pending = jarFetches.get(baseDir);
  if (!pending) {
    pending = fetchJars(v, baseDir);
    jarFetches.set(baseDir, pending);
    // A failed fetch must not be remembered, or a retry in the same process could never succeed.
    pending.catch(() => jarFetches.delete(baseDir));
  }
  return pending;
}

// ---------------------------------------------------------------------------------------------
// A few Kafka protocol requests, enough to tell that the broker really serves clients.

const API_METADATA = 3;
const API_FIND_COORDINATOR = 10;
const API_VERSIONS = 18;
const ERROR_NONE = 0;

function int16(n) {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}
function int32(n) {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
function str(s) {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([int16(bytes.length), bytes]);
}

class Reader {
  constructor(buf) {
    this.buf = buf;
    this.off = 0;
  }
  i8() {
    return this.buf.readInt8((this.off += 1) - 1);
  }
  i16() {
    return this.buf.readInt16BE((this.off += 2) - 2);
  }
  i32() {
    return this.buf.readInt32BE((this.off += 4) - 4);
  }
  str() {
    const len = this.i16();
    if (len < 0) return null;
    const s = this.buf.toString('utf8', this.off, this.off + len);
    this.off += len;
    return s;
  }
}

function connect(host, port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host, port });
    const waiting = [];
    let buf = Buffer.alloc(0);
    let correlationId = 0;
    let failure = null;
    const fail = (err) => {
      if (failure) return;
      failure = err;
      clearTimeout(timer);
      socket.destroy();
      for (const w of waiting.splice(0)) w.reject(err);
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', fail);
    socket.on('close', () => fail(new Error(`${host}:${port} closed the connection`)));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4) {
        const size = buf.readInt32BE(0);
        if (size < 4 || size > 64 * 1024 * 1024) return fail(new Error(`malformed response frame (size ${size})`));
        if (buf.length < 4 + size) return;
        const frame = buf.subarray(4, 4 + size);
        buf = buf.subarray(4 + size);
        const w = waiting.shift();
        if (!w || frame.readInt32BE(0) !== w.correlationId) return fail(new Error('response out of order'));
        w.resolve(new Reader(frame.subarray(4)));
      }
    });
    socket.once('connect', () =>
      resolve({
        request(apiKey, apiVersion, body) {
          if (failure) return Promise.reject(failure);
          correlationId += 1;
          const payload = Buffer.concat([
            int16(apiKey),
            int16(apiVersion),
            int32(correlationId),
            str('vigil-kafka-probe'),
            body,
          ]);
          return new Promise((res, rej) => {
            waiting.push({ correlationId, resolve: res, reject: rej });
            socket.write(Buffer.concat([int32(payload.length), payload]));
          });
        },
        close() {
          failure ??= new Error('closed');
          clearTimeout(timer);
          socket.destroy();
        },
      }),
    );
  });
}

// Picks the lowest version both we (non-flexible encodings only) and the broker support; brokers
// drop old versions over time (Kafka 4.0 removed many), so a fixed version is not safe.
function pickVersion(apiVersions, apiKey, lowest, highest) {
  const range = apiVersions.get(apiKey);
  if (!range) return -1;
  const v = Math.max(range.min, lowest);
  return v <= Math.min(range.max, highest) ? v : -1;
}

async function fetchApiVersions(conn) {
  const r = await conn.request(API_VERSIONS, 0, Buffer.alloc(0));
  const errorCode = r.i16();
  if (errorCode !== ERROR_NONE) throw new Error(`ApiVersions failed with error code ${errorCode}`);
  const apiVersions = new Map();
  for (let n = r.i32(); n > 0; n--) apiVersions.set(r.i16(), { min: r.i16(), max: r.i16() });
  if (apiVersions.size === 0) throw new Error('ApiVersions listed no APIs');
  return apiVersions;
}

async function fetchBrokers(conn, apiVersions) {
  const v = pickVersion(apiVersions, API_METADATA, 1, 8);
  if (v < 0) throw new Error('broker supports no Metadata version between 1 and 8');
  // An empty (not null) topic list asks for brokers only.
  const parts = [int32(0)];
  if (v >= 4) parts.push(Buffer.from([0])); // allow_auto_topic_creation
  if (v >= 8) parts.push(Buffer.from([0, 0])); // include cluster/topic authorized operations
  const r = await conn.request(API_METADATA, v, Buffer.concat(parts));
  if (v >= 3) r.i32(); // throttle_time_ms
  const brokers = [];
  for (let n = r.i32(); n > 0; n--) {
    const nodeId = r.i32();
    const host = r.str();
    const port = r.i32();
    r.str(); // rack
    brokers.push({ nodeId, host, port });
  }
  return brokers;
}

// Asking for a group coordinator makes the broker create __consumer_offsets; doing it here moves
// that one-off delay out of the first test that joins a consumer group.
async function findGroupCoordinator(conn, apiVersions) {
  const v = pickVersion(apiVersions, API_FIND_COORDINATOR, 0, 2);
  if (v < 0) return ERROR_NONE;
  const body = v >= 1 ? Buffer.concat([str('vigil-kafka-warmup'), Buffer.from([0])]) : str('vigil-kafka-warmup');
  const r = await conn.request(API_FIND_COORDINATOR, v, body);
  if (v >= 1) r.i32(); // throttle_time_ms
  return r.i16();
}

function parseHostPort(address) {
  const first = String(address).split(',')[0].trim();
  const i = first.lastIndexOf(':');
  const port = Number(first.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) throw new Error(`expected host:port, got ${JSON.stringify(address)}`);
  return { host: first.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

/**
 * Asks a broker over the Kafka wire protocol whether it serves clients: sends ApiVersions, then a
 * Metadata request for no topics (and, with `groupCoordinator`, a FindCoordinator for a group).
 * Rejects if the broker is unreachable or answers with an error.
 *
 * @param {string} brokers "host:port" (the first entry of a comma-separated list is used).
 * @param {{ timeoutMs?: number, groupCoordinator?: boolean }} [options] timeoutMs bounds the whole
 *   exchange (default 5000).
 * @returns {Promise<{ brokers: { nodeId: number, host: string, port: number }[],
 *   apiVersions: Map<number, { min: number, max: number }>, coordinatorError?: number }>}
 *   coordinatorError is the FindCoordinator error code (0 once the group coordinator is ready).
 */
export async function probeBroker(brokers, options = {}) {
  const { host, port } = parseHostPort(brokers);
  const conn = await connect(host, port, options.timeoutMs ?? 5000);
  try {
    const apiVersions = await fetchApiVersions(conn);
    const result = { brokers: await fetchBrokers(conn, apiVersions), apiVersions };
    if (options.groupCoordinator) result.coordinatorError = await findGroupCoordinator(conn, apiVersions);
    return result;
  } finally {
    conn.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Broker process management.

function getFreePorts(count) {
  // All sockets stay bound until every port is known, so the ports are distinct.
  const servers = Array.from({ length: count }, () => net.createServer());
  return Promise.all(
    servers.map(
      (srv) =>
        new Promise((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(0, HOST, () => resolve(srv.address().port));
        }),
    ),
  ).finally(() => Promise.all(servers.map((srv) => new Promise((r) => srv.close(() => r())))));
}

function toProperties(obj) {
  return `${Object.entries(obj)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

function serverProperties({ version, port, controllerPort, kraftDir, overrides }) {
  const props = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    // A static voter set works on 3.9 and 4.x alike; the dynamic quorum (controller.quorum.bootstrap.servers
    // with `format --standalone`) only exists from 3.9 on and needs a different format call.
    'controller.quorum.voters': `1@${HOST}:${controllerPort}`,
    listeners: `PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': kraftDir,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'auto.create.topics.enable': false,
    'delete.topic.enable': true,
    'offsets.topic.replication.factor': 1,
    // Internal topics default to 50 partitions each, which dominates the first group join.
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    // Lets fault tests use short consumer session timeouts (the broker default minimum is 6 s).
    'group.min.session.timeout.ms': 1000,
    // After a crash (kill()) the controller refuses the restarted broker until the old incarnation's
    // session expires (9 s by default); heartbeats stay on loopback, so a short session is safe.
    'broker.heartbeat.interval.ms': 500,
    'broker.session.timeout.ms': 3000,
    // Two cores and one client: fewer threads start faster and use less memory.
    'num.network.threads': 2,
    'num.io.threads': 2,
    'num.recovery.threads.per.data.dir': 1,
    'background.threads': 2,
    'log.cleaner.threads': 1,
    // The cleaner allocates this buffer on the heap up front (128 MiB by default).
    'log.cleaner.dedupe.buffer.size': 8 * 1024 * 1024,
    ...(majorOf(version) >= 4
      ? { 'share.coordinator.state.topic.replication.factor': 1, 'share.coordinator.state.topic.min.isr': 1 }
      : {}),
    ...overrides,
  };
  return toProperties(props);
}

const LOG_LEVELS = {
  'kafka.request.logger': 'WARN',
  'kafka.network.RequestChannel$': 'WARN',
  'state.change.logger': 'WARN',
  'kafka.log.LogCleaner': 'WARN',
  'org.apache.kafka.common.utils.AppInfoParser': 'WARN',
  // Every internal client and server component dumps its full config at INFO: hundreds of lines each.
  'org.apache.kafka.common.config.AbstractConfig': 'WARN',
  'kafka.server.KafkaConfig': 'WARN',
};

// Both configs log to stdout, which the broker process has redirected to its log file: the file then
// also catches what the JVM itself prints (bad options, crashes) before logging is up.
function loggingConfig(version, rootLevel, target) {
  if (usesLog4j2(version)) {
    const lines = [
      'status = warn',
      'appender.out.type = Console',
      'appender.out.name = OUT',
      `appender.out.target = ${target === 'stderr' ? 'SYSTEM_ERR' : 'SYSTEM_OUT'}`,
      'appender.out.layout.type = PatternLayout',
      'appender.out.layout.pattern = [%d] %p %m (%c)%n',
      `rootLogger.level = ${rootLevel}`,
      'rootLogger.appenderRef.out.ref = OUT',
    ];
    Object.entries(LOG_LEVELS).forEach(([name, level], i) => {
      lines.push(`logger.l${i}.name = ${name}`, `logger.l${i}.level = ${level}`);
    });
    return `${lines.join('\n')}\n`;
  }
  const lines = [
    `log4j.rootLogger=${rootLevel}, out`,
    'log4j.appender.out=org.apache.log4j.ConsoleAppender',
    `log4j.appender.out.Target=${target === 'stderr' ? 'System.err' : 'System.out'}`,
    'log4j.appender.out.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n',
    ...Object.entries(LOG_LEVELS).map(([name, level]) => `log4j.logger.${name}=${level}`),
  ];
  return `${lines.join('\n')}\n`;
}

function loggingJvmArg(version, file) {
  return usesLog4j2(version) ? `-Dlog4j2.configurationFile=${file}` : `-Dlog4j.configuration=file:${file}`;
}

// Brokers still running in this process; the exit/signal hooks kill them synchronously.
const liveBrokers = new Set();
let exitHookInstalled = false;
let signalHooksInstalled = false;

function onParentSignal(signal) {
  for (const b of liveBrokers) b.destroySync();
  // Re-raise only when no one else listens, so that the process still dies as it would have.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onParentSignal);
    process.kill(process.pid, signal);
  }
}

function installHooks(handleSignals) {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const b of liveBrokers) b.destroySync();
    });
  }
  if (handleSignals && !signalHooksInstalled) {
    signalHooksInstalled = true;
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, onParentSignal);
  }
}

// Exit hooks cannot run when this process is SIGKILLed; a tiny shell loop outlives it and then
// kills the JVM and removes its data, so no orphaned broker keeps half a gigabyte.
function spawnWatchdog(javaPid, dataDir) {
  const script =
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -9 "$2" 2>/dev/null; sleep 1; rm -rf "$3"';
  try {
    const dog = spawn('/bin/sh', ['-c', script, 'vigil-kafka-watchdog', String(process.pid), String(javaPid), dataDir], {
      stdio: 'ignore',
    });
    dog.on('error', () => {});
    dog.unref();
    return dog;
  } catch {
    return null;
  }
}

async function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a real single-node Kafka broker (KRaft, broker+controller) on free loopback ports and
 * resolves once it answers ApiVersions and Metadata requests and its group coordinator is ready.
 * Jars are fetched first if needed (see {@link ensureKafkaJars}).
 *
 * @param {object} [options]
 * @param {string} [options.version] Kafka release; default KAFKA_VERSION or {@link DEFAULT_KAFKA_VERSION}.
 * @param {number} [options.port] client (PLAINTEXT) port; default a free one.
 * @param {number} [options.controllerPort] KRaft controller port; default a free one.
 * @param {Record<string, string|number|boolean>} [options.serverProperties] extra or overriding
 *   server.properties entries.
 * @param {string} [options.heap] JVM -Xmx (default "512m").
 * @param {string} [options.initialHeap] JVM -Xms (default "256m").
 * @param {string[]} [options.jvmArgs] extra JVM options.
 * @param {number} [options.startTimeoutMs] readiness timeout for start and restart (default 120000).
 * @param {string} [options.cacheDir] jar cache root (default KAFKA_CACHE_DIR or `<repo>/.cache`).
 * @param {boolean} [options.handleSignals] kill the broker on SIGINT/SIGTERM/SIGHUP of this process
 *   (default true; it is always killed on process exit).
 * @returns {Promise<{ brokers: string, host: string, port: number, controllerPort: number,
 *   version: string, clusterId: string, dataDir: string, logFile: string, startupMs: number,
 *   readonly pid: number | undefined, readonly running: boolean,
 *   stop(): Promise<void>, kill(signal?: NodeJS.Signals): Promise<void>,
 *   restart(options?: { downtimeMs?: number, hard?: boolean }): Promise<void>,
 *   pause(): void, resume(): void }>}
 *   - stop(): SIGTERM, wait up to 30 s (then SIGKILL), delete dataDir. Idempotent; final.
 *   - kill(signal = 'SIGKILL'): end the JVM but keep dataDir, so restart() can bring the broker
 *     back; SIGKILL is a crash, 'SIGTERM' a clean shutdown (waits up to 30 s, then SIGKILL).
 *   - restart(): stop the process if it still runs (SIGTERM, or SIGKILL with `hard`), wait
 *     `downtimeMs`, start it again with the same data and ports, and resolve when it is ready
 *     (same readiness check and timeout as the first start).
 *   - pause()/resume(): SIGSTOP/SIGCONT the JVM: a hung broker whose sockets stay open.
 */
export async function startBroker(options = {}) {
  const version = resolveVersion(options.version);
  const libsDir = await ensureKafkaJars(version, { cacheDir: options.cacheDir });
  const fixedPorts = options.port !== undefined || options.controllerPort !== undefined;
  // A free port can be taken by someone else before the JVM binds it; fresh ports fix that.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchBroker(version, libsDir, options);
    } catch (err) {
      if (fixedPorts || attempt >= 3 || !err.addressInUse) throw err;
    }
  }
}

async function launchBroker(version, libsDir, options) {
  const started = Date.now();
  const java = javaBinary();
  const startTimeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  const [freePort, freeControllerPort] = await getFreePorts(2);
  const port = options.port ?? freePort;
  const controllerPort = options.controllerPort ?? (freeControllerPort === port ? freePort : freeControllerPort);
  const brokers = `${HOST}:${port}`;
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), `vigil-kafka-${version}-`));
  const logFile = path.join(dataDir, 'broker.log');
  const propsFile = path.join(dataDir, 'server.properties');
  const logConfig = path.join(dataDir, usesLog4j2(version) ? 'log4j2.properties' : 'log4j.properties');
  const toolsLogConfig = path.join(dataDir, usesLog4j2(version) ? 'tools-log4j2.properties' : 'tools-log4j.properties');
  const classpath = path.join(libsDir, '*');

  let child = null; // { proc, exited: Promise<{code, signal}>, done: boolean, watchdog }
  let paused = false;
  let stopping = null;

  const handle = {
    brokers,
    host: HOST,
    port,
    controllerPort,
    version,
    clusterId: '',
    dataDir,
    logFile,
    startupMs: 0,
    get pid() {
      return child && !child.done ? child.proc.pid : undefined;
    },
    get running() {
      return Boolean(child && !child.done);
    },
    stop,
    kill,
    restart,
    pause,
    resume,
  };
  const entry = {
    destroySync() {
      if (child && !child.done) {
        try {
          process.kill(child.proc.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      child?.watchdog?.kill('SIGKILL');
      try {
        fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
      } catch {
        /* runs inside exit/signal hooks, which must not throw */
      }
    },
  };
  liveBrokers.add(entry);
  installHooks(options.handleSignals !== false);

  function spawnJava() {
    const fd = fs.openSync(logFile, 'a');
    let proc;
    try {
      proc = spawn(
        java,
        [
          `-Xmx${options.heap ?? '512m'}`,
          `-Xms${options.initialHeap ?? '256m'}`,
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          '-XX:+ExplicitGCInvokesConcurrent',
          '-Djava.awt.headless=true',
          loggingJvmArg(version, logConfig),
          ...(options.jvmArgs ?? []),
          '-cp',
          classpath,
          'kafka.Kafka',
          propsFile,
        ],
        { cwd: dataDir, stdio: ['ignore', fd, fd] },
      );
    } finally {
      fs.closeSync(fd);
    }
    const c = { proc, done: false, watchdog: null, exitInfo: null };
    c.exited = new Promise((resolve) => {
      const finish = (info) => {
        if (c.done) return;
        c.done = true;
        c.exitInfo = info;
        c.watchdog?.kill('SIGKILL');
        resolve(info);
      };
      proc.once('exit', (code, signal) => finish({ code, signal }));
      proc.once('error', (err) => finish({ code: null, signal: null, error: err }));
    });
    // Tests that forget stop() must not hang their process; the exit hook still kills the JVM.
    proc.unref();
    if (proc.pid) c.watchdog = spawnWatchdog(proc.pid, dataDir);
    child = c;
    paused = false;
    return c;
  }

  async function failure(reason) {
    const log = await fsp.readFile(logFile, 'utf8').catch(() => '');
    const lines = log.split('\n');
    // The tail of a failed start is mostly shutdown noise; the cause is the first ERROR and its trace.
    const firstError = lines.findIndex((l) => / (ERROR|FATAL) /.test(l));
    const cause = firstError >= 0 ? `First error:\n${lines.slice(firstError, firstError + 6).join('\n')}\n` : '';
    const err = new Error(
      `Kafka ${version} broker at ${brokers} ${reason}. ${cause}Last lines of ${logFile}:\n${tail(log) || '(empty)'}`,
    );
    err.addressInUse = /Address already in use/.test(log);
    return err;
  }

  async function waitReady() {
    const c = child;
    const deadline = Date.now() + startTimeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (c.done) {
        const { code, signal, error } = c.exitInfo;
        throw await failure(error ? `could not be started (${error.message})` : `exited during start-up (code ${code}, signal ${signal})`);
      }
      try {
        const info = await probeBroker(brokers, {
          timeoutMs: Math.max(1000, Math.min(5000, deadline - Date.now())),
          groupCoordinator: true,
        });
        if (info.brokers.length === 0) last = 'Metadata listed no brokers';
        else if (info.coordinatorError !== ERROR_NONE) last = `group coordinator not ready (error ${info.coordinatorError})`;
        else return;
      } catch (err) {
        last = err.message;
      }
      await Promise.race([c.exited, sleep(200)]);
    }
    throw await failure(`was not ready within ${Math.round(startTimeoutMs / 1000)} s (${last})`);
  }

  async function terminate(signal, graceMs) {
    const c = child;
    if (!c || c.done) return;
    // The JVM was unref'd; while we wait for it, this process must stay alive to finish the stop.
    c.proc.ref();
    if (paused) {
      c.proc.kill('SIGCONT');
      paused = false;
    }
    c.proc.kill(signal);
    if (!(await withTimeout(c.exited, graceMs))) {
      c.proc.kill('SIGKILL');
      await c.exited;
    }
  }

  async function start() {
    spawnJava();
    try {
      await waitReady();
    } catch (err) {
      await terminate('SIGKILL', 0);
      throw err;
    }
  }

  function stop() {
    stopping ??= (async () => {
      try {
        await terminate('SIGTERM', STOP_GRACE_MS);
      } finally {
        liveBrokers.delete(entry);
        await removeDir(dataDir);
      }
    })();
    return stopping;
  }

  async function kill(signal = 'SIGKILL') {
    await terminate(signal, signal === 'SIGKILL' ? 0 : STOP_GRACE_MS);
  }

  async function restart({ downtimeMs = 0, hard = false } = {}) {
    if (stopping) throw new Error('restart() after stop(): the broker and its data are gone');
    await terminate(hard ? 'SIGKILL' : 'SIGTERM', hard ? 0 : STOP_GRACE_MS);
    if (downtimeMs > 0) await sleep(downtimeMs);
    await start();
  }

  function pause() {
    if (child && !child.done && !paused) {
      child.proc.kill('SIGSTOP');
      paused = true;
    }
  }

  function resume() {
    if (child && !child.done && paused) {
      child.proc.kill('SIGCONT');
      paused = false;
    }
  }

  try {
    await fsp.writeFile(
      propsFile,
      serverProperties({
        version,
        port,
        controllerPort,
        kraftDir: path.join(dataDir, 'kraft'),
        overrides: options.serverProperties ?? {},
      }),
    );
    await fsp.writeFile(logConfig, loggingConfig(version, 'INFO', 'stdout'));
    await fsp.writeFile(toolsLogConfig, loggingConfig(version, 'WARN', 'stderr'));
    // Short-lived tool JVMs: C1 only and a serial GC start noticeably faster.
    const tool = (args) =>
      run(java, [
        '-Xmx256m',
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        loggingJvmArg(version, toolsLogConfig),
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        ...args,
      ]);
    const uuid = await tool(['random-uuid']);
    const clusterId = uuid.stdout.trim().split(/\s+/).pop() ?? '';
    if (uuid.code !== 0 || !/^[A-Za-z0-9_-]{22}$/.test(clusterId)) {
      throw new Error(`kafka-storage random-uuid failed (exit ${uuid.code}):\n${tail(uuid.stdout + uuid.stderr)}`);
    }
    handle.clusterId = clusterId;
    const format = await tool(['format', '-t', clusterId, '-c', propsFile]);
    if (format.code !== 0) {
      throw new Error(`kafka-storage format failed (exit ${format.code}):\n${tail(format.stdout + format.stderr)}`);
    }
    await start();
  } catch (err) {
    await terminate('SIGKILL', 0).catch(() => {});
    liveBrokers.delete(entry);
    await removeDir(dataDir).catch(() => {});
    throw err;
  }
  handle.startupMs = Date.now() - started;
  return handle;
}

// ---------------------------------------------------------------------------------------------
// CLI

function parseCli(argv) {
  const opts = { command: 'start' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === 'fetch' || arg === 'start') opts.command = arg;
    else if (arg.startsWith('--version')) opts.version = value();
    else if (arg.startsWith('--controller-port')) opts.controllerPort = Number(value());
    else if (arg.startsWith('--port')) opts.port = Number(value());
    else if (arg === '-h' || arg === '--help') opts.command = 'help';
    else throw new Error(`unknown argument ${arg}`);
  }
  return opts;
}

async function main(argv) {
  const opts = parseCli(argv);
  if (opts.command === 'help') {
    console.log('usage: node scripts/kafka-broker.mjs [start] [--version X] [--port N] [--controller-port N]\n' +
      '       node scripts/kafka-broker.mjs fetch [--version X]');
    return;
  }
  if (opts.command === 'fetch') {
    const t0 = Date.now();
    const libs = await ensureKafkaJars(opts.version);
    console.error(`kafka ${resolveVersion(opts.version)} jars in ${libs} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return;
  }
  const t0 = Date.now();
  const broker = await startBroker({
    version: opts.version,
    port: opts.port,
    controllerPort: opts.controllerPort,
    handleSignals: false,
  });
  console.log(`KAFKA_BROKERS=${broker.brokers}`);
  console.error(
    `kafka ${broker.version} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; log ${broker.logFile}; Ctrl-C to stop`,
  );
  // The JVM child is unref'd, so something has to keep this process alive until a signal arrives.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise((resolve) => {
    const onSignal = (sig) => {
      console.error(`${sig}: stopping kafka`);
      // A second signal means "now": skip the graceful shutdown.
      process.once('SIGINT', () => void broker.kill().finally(() => process.exit(130)));
      process.once('SIGTERM', () => void broker.kill().finally(() => process.exit(143)));
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await broker.stop();
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
