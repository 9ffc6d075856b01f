// Local single-node Apache Kafka (KRaft) broker for weir's tests and users: fetch jars via Maven, format, start, probe, stop, restart (library + CLI).
//
// Library:  import { startBroker, stopBroker, fetchKafka } from './scripts/kafka/broker.mjs'
// CLI:      node scripts/kafka/broker.mjs fetch|start|stop|restart|status|tool ...   (see README.md beside this file)

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { userCacheDir } from '../../src/core/typescript-loader.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Root of the weir checkout (two levels above this file). */
export const PROJECT_ROOT = resolve(HERE, '..', '..');

/** The pinned Kafka release; WEIR_KAFKA_VERSION overrides it (any 4.x served by Maven Central should work). */
export const DEFAULT_KAFKA_VERSION = '4.1.1';

const HOST = '127.0.0.1';
const STATE_FILE = 'broker.json';
const READY_MARKER = '.weir-complete';

// ---------------------------------------------------------------------------------------------------------------------
// Settings (all overridable by environment variables)
// ---------------------------------------------------------------------------------------------------------------------

function env(name) {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

export function kafkaVersion() {
  return env('WEIR_KAFKA_VERSION') ?? DEFAULT_KAFKA_VERSION;
}

/** Where fetched jars are cached: $WEIR_KAFKA_CACHE_DIR, else kafka/ in the user's cache folder (~/.cache/weir, or $WEIR_CACHE_DIR). */
export function cacheDir() {
  return resolve(env('WEIR_KAFKA_CACHE_DIR') ?? join(userCacheDir(), 'kafka'));
}

/** The classpath dir: $WEIR_KAFKA_LIB_DIR (e.g. the libs/ of a Kafka binary distribution) or <cache>/<version>/lib. */
export function libDir(version = kafkaVersion()) {
  const explicit = env('WEIR_KAFKA_LIB_DIR');
  return explicit ? resolve(explicit) : join(cacheDir(), version, 'lib');
}

/** Default broker data dir (config, KRaft logs, broker logs, state file): $WEIR_KAFKA_DATA_DIR or <tmp>/weir-kafka. */
export function defaultDataDir() {
  return resolve(env('WEIR_KAFKA_DATA_DIR') ?? join(tmpdir(), 'weir-kafka'));
}

function javaBin() {
  if (env('WEIR_KAFKA_JAVA')) return env('WEIR_KAFKA_JAVA');
  if (env('JAVA_HOME')) return join(env('JAVA_HOME'), 'bin', 'java');
  return 'java';
}

function splitOpts(s) {
  return s ? s.split(/\s+/).filter(Boolean) : [];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function log(quiet, msg) {
  if (!quiet) process.stderr.write(`[weir-kafka] ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------------------------------
// Fetch: Maven copies kafka_2.13 + kafka-tools + a log4j2 backend into <cache>/<version>/lib, once.
// ---------------------------------------------------------------------------------------------------------------------

function hasKafkaJars(dir) {
  try {
    return readdirSync(dir).some((f) => /^kafka_2\.1[23]-.*\.jar$/.test(f));
  } catch {
    return false;
  }
}

/**
 * Make sure the Kafka jars are on disk. Cached: when <lib>/.weir-complete exists nothing is downloaded.
 * Safe against concurrent callers (a mkdir lock serialises them; the download lands in a temp dir and is renamed).
 * @returns {Promise<{ libDir: string, version: string, cached: boolean, ms: number }>}
 */
export async function fetchKafka({ version = kafkaVersion(), quiet = false, timeoutMs = 15 * 60_000 } = {}) {
  const t0 = performance.now();
  const dir = libDir(version);
  const done = () => ({ libDir: dir, version, ms: Math.round(performance.now() - t0) });

  if (env('WEIR_KAFKA_LIB_DIR')) {
    if (!hasKafkaJars(dir)) throw new Error(`WEIR_KAFKA_LIB_DIR=${dir} holds no kafka_2.13-*.jar`);
    return { ...done(), cached: true };
  }
  if (existsSync(join(dir, READY_MARKER))) return { ...done(), cached: true };

  mkdirSync(dirname(dir), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  return withLock(`${dir}.lock`, timeoutMs, () => existsSync(join(dir, READY_MARKER)), async (alreadyDone) => {
    if (alreadyDone) return { ...done(), cached: true };
    const tmp = `${dir}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
    const mvn = env('WEIR_KAFKA_MVN') ?? 'mvn';
    const args = [
      '-B', '-q', '-Dstyle.color=never', '-f', join(HERE, 'pom.xml'), ...splitOpts(env('WEIR_KAFKA_MVN_ARGS')),
      `-Dkafka.version=${version}`, `-Dkafka.lib.dir=${tmp}`, 'package',
    ];
    log(quiet, `fetching Apache Kafka ${version} jars with Maven into ${dir} ...`);
    const res = await run(mvn, args, { timeoutMs: Math.max(1000, deadline - Date.now()) });
    if (res.code !== 0 || !hasKafkaJars(tmp)) {
      rmSync(tmp, { recursive: true, force: true });
      const errors = res.output.replace(/\x1b\[[0-9;]*m/g, '').split('\n')
        .filter((l) => /^\[ERROR\] \S/.test(l) && !/\[Help \d+\] http|-e switch|-X switch|possible solutions/.test(l));
      throw new Error(`Maven fetch of Kafka ${version} failed (exit ${res.code}):\n${(errors.length ? errors.slice(0, 8).join('\n') : tail(res.output, 40))}`);
    }
    writeFileSync(join(tmp, READY_MARKER), `${version}\n`);
    rmSync(dir, { recursive: true, force: true }); // an incomplete earlier attempt
    renameSync(tmp, dir);
    log(quiet, `fetched Kafka ${version} in ${done().ms} ms`);
    return { ...done(), cached: false };
  });
}

/**
 * Run fn while holding a lock dir (mkdir is atomic). A lock whose owner pid is dead is taken over. If `isDone()` turns
 * true while waiting, fn is still called (under the lock) with alreadyDone=true so it can return early.
 */
async function withLock(lock, timeoutMs, isDone, fn) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'owner'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner = 0;
      try { owner = Number(readFileSync(join(lock, 'owner'), 'utf8')); } catch { /* being created or removed */ }
      let age = 0;
      try { age = Date.now() - statSync(lock).mtimeMs; } catch { continue; }
      if ((owner && !pidAlive(owner)) || (!owner && age > 10_000)) {
        rmSync(lock, { recursive: true, force: true }); // left by a killed process
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock} (held by pid ${owner || '?'})`);
      await sleep(200);
    }
  }
  try {
    return await fn(isDone());
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function run(cmd, args, { timeoutMs = 0, cwd } = {}) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = timeoutMs ? setTimeout(() => child.kill('SIGKILL'), timeoutMs) : null;
    child.on('error', (e) => { if (timer) clearTimeout(timer); reject(new Error(`cannot run ${cmd}: ${e.message}`)); });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolveRun({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

function tail(text, lines) {
  return String(text).trimEnd().split('\n').slice(-lines).join('\n');
}

function tailFile(file, lines) {
  try {
    return tail(readFileSync(file, 'utf8'), lines);
  } catch {
    return '(no file)';
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Ports, processes, state file
// ---------------------------------------------------------------------------------------------------------------------

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function portIsFree(port) {
  return new Promise((res) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => res(false));
    srv.listen(port, HOST, () => srv.close(() => res(true)));
  });
}

function pidAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return e.code === 'EPERM';
  }
  // A zombie still answers kill(pid, 0) but is gone for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

/** True if pid is (still) the broker JVM started for this data dir, so a recycled pid is never signalled. */
function pidIsOurBroker(pid, dataDir) {
  if (!pidAlive(pid)) return false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('kafka.Kafka') && cmd.includes(join(dataDir, 'server.properties'));
  } catch {
    return true; // no /proc: trust the state file
  }
}

function readState(dataDir) {
  try {
    return JSON.parse(readFileSync(join(dataDir, STATE_FILE), 'utf8'));
  } catch {
    return null;
  }
}

function writeState(dataDir, state) {
  const file = join(dataDir, STATE_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** Kafka's Uuid text form: 16 random bytes, URL-safe base64 without padding, never starting with '-'. */
function randomClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Readiness probe: a raw Metadata request (v4, no topics) on the broker port; ready once it lists a live broker.
// ---------------------------------------------------------------------------------------------------------------------

/**
 * Ask the broker at host:port for cluster metadata.
 * @returns {Promise<{ brokers: { nodeId: number, host: string, port: number }[], clusterId: string | null, controllerId: number }>}
 */
export function probeMetadata(port, host = HOST, timeoutMs = 2000) {
  return new Promise((res, rej) => {
    const clientId = Buffer.from('weir-probe');
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
    let o = 0;
    o = body.writeInt16BE(3, o); // api key: Metadata
    o = body.writeInt16BE(4, o); // api version 4 (request header v1, not flexible)
    o = body.writeInt32BE(1, o); // correlation id
    o = body.writeInt16BE(clientId.length, o);
    o += clientId.copy(body, o);
    o = body.writeInt32BE(0, o); // topics: empty array -> brokers only
    body.writeInt8(0, o); // allow_auto_topic_creation = false
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);

    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const fail = (err) => { sock.destroy(); rej(err); };
    sock.setTimeout(timeoutMs, () => fail(new Error('metadata probe timed out')));
    sock.on('error', fail);
    sock.on('connect', () => sock.write(Buffer.concat([size, body])));
    sock.on('close', () => rej(new Error('connection closed before a metadata response')));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      sock.destroy();
      try {
        let p = 4 + 4 + 4; // size, correlation id, throttle_time_ms
        const n = buf.readInt32BE(p); p += 4;
        const brokers = [];
        const str = () => {
          const len = buf.readInt16BE(p); p += 2;
          if (len < 0) return null;
          const s = buf.toString('utf8', p, p + len); p += len;
          return s;
        };
        for (let i = 0; i < n; i++) {
          const nodeId = buf.readInt32BE(p); p += 4;
          const h = str();
          const bp = buf.readInt32BE(p); p += 4;
          str(); // rack
          brokers.push({ nodeId, host: h, port: bp });
        }
        const clusterId = str();
        const controllerId = buf.readInt32BE(p);
        res({ brokers, clusterId, controllerId });
      } catch (e) {
        rej(new Error(`unreadable metadata response: ${e.message}`));
      }
    });
  });
}

async function isReady(port) {
  try {
    const md = await probeMetadata(port);
    return md.brokers.length > 0;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Config files
// ---------------------------------------------------------------------------------------------------------------------

function serverProperties({ dataDir, port, controllerPort, config }) {
  const props = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${HOST}:${controllerPort}`,
    listeners: `PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(dataDir, 'data'),
    // One node: every replication factor and ISR minimum is 1, so transactions and groups work.
    'num.partitions': '1',
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    // Small internal topics make the first group join / initTransactions fast.
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.num.partitions': '1',
    'group.initial.rebalance.delay.ms': '0',
    // After a crash (SIGKILL) the restarted broker must wait for its old registration's session to expire before it can
    // register again; a short session (heartbeats are in-process here) keeps a crash-restart at ~3 s instead of ~12 s.
    'broker.heartbeat.interval.ms': '500',
    'broker.session.timeout.ms': '3000',
    'auto.create.topics.enable': 'true',
    'delete.topic.enable': 'true',
    ...Object.fromEntries(Object.entries(config ?? {}).map(([k, v]) => [k, String(v)])),
  };
  return [
    '# weir local Kafka broker (generated by scripts/kafka/broker.mjs; rewritten on every start)',
    ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
    '',
  ].join('\n');
}

function log4j2Properties(logFile, level) {
  return [
    '# log4j2 config of the weir local Kafka broker (generated by scripts/kafka/broker.mjs): everything to one file',
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = ${logFile}`,
    'appender.file.append = true',
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    `rootLogger.level = ${level}`,
    'rootLogger.appenderRef.file.ref = FILE',
    '',
  ].join('\n');
}

function toolsLog4j2Properties() {
  return [
    '# log4j2 config for Kafka CLI tools run by scripts/kafka/broker.mjs: warnings to stderr only',
    'status = warn',
    'appender.err.type = Console',
    'appender.err.name = STDERR',
    'appender.err.target = SYSTEM_ERR',
    'appender.err.layout.type = PatternLayout',
    'appender.err.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = WARN',
    'rootLogger.appenderRef.err.ref = STDERR',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------------
// Start / stop
// ---------------------------------------------------------------------------------------------------------------------

/** Brokers this process started in library mode; sent SIGTERM if the process exits without stopping them. */
const ownedPids = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of ownedPids) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
    }
  });
}

/** A fresh, unique data dir in the OS temp folder (for tests and demos that must not share a broker; stop it with removeData). */
export function tempDataDir(prefix = 'kafka') {
  const dir = join(tmpdir(), `weir-${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Start (or attach to) a single-node KRaft broker+controller on 127.0.0.1.
 *
 * Idempotent-ish: if a broker already runs for `dataDir` it is reused; an existing formatted data dir keeps its
 * data, cluster id and (when still free) its ports, so stop() + startBroker({ dataDir }) is a restart.
 *
 * @param {object} [opts]
 * @param {string} [opts.dataDir]          default $WEIR_KAFKA_DATA_DIR or <tmp>/weir-kafka
 * @param {number} [opts.port]             broker port; default: the one used before, $WEIR_KAFKA_PORT, or a free one
 * @param {number} [opts.controllerPort]   KRaft controller port; default: the one used before or a free one
 * @param {boolean} [opts.fresh]           wipe the data dir first (new cluster, no topics)
 * @param {Record<string,string|number|boolean>} [opts.config]  extra/overriding server.properties entries
 * @param {number} [opts.startTimeoutMs]   default 120000
 * @param {boolean} [opts.detached]        leave the broker running when this process exits (the CLI uses this)
 * @param {boolean} [opts.quiet]
 */
export async function startBroker(opts = {}) {
  const t0 = performance.now();
  const quiet = opts.quiet ?? true;
  const dataDir = resolve(opts.dataDir ?? defaultDataDir());
  const version = opts.version ?? kafkaVersion();
  const startTimeoutMs = opts.startTimeoutMs ?? Number(env('WEIR_KAFKA_START_TIMEOUT_MS') ?? 120_000);

  const fetched = await fetchKafka({ version, quiet });
  mkdirSync(dataDir, { recursive: true });
  // Serialise starts of the same data dir (two processes must not format or launch it twice).
  return withLock(join(dataDir, '.start.lock'), startTimeoutMs + 60_000, () => false,
    () => startLocked({ ...opts, dataDir, version, quiet, startTimeoutMs }, fetched, t0));
}

async function startLocked(opts, fetched, t0) {
  const { dataDir, version, quiet, startTimeoutMs } = opts;
  let prev = readState(dataDir);
  if (prev?.pid && pidIsOurBroker(prev.pid, dataDir)) {
    if (opts.fresh) {
      await stopBroker({ dataDir, quiet });
      prev = readState(dataDir);
    } else {
      if ((opts.port && opts.port !== prev.port) || (opts.controllerPort && opts.controllerPort !== prev.controllerPort)) {
        throw new Error(`a broker already runs for ${dataDir} on port ${prev.port}; stop it first`);
      }
      await waitReady(prev.pid, prev.port, dataDir, startTimeoutMs, null);
      log(quiet, `reusing running broker pid ${prev.pid} at ${HOST}:${prev.port}`);
      return makeHandle({ ...opts, dataDir, version }, prev, { attached: true, startMs: 0, fetch: fetched });
    }
  }

  if (opts.fresh) {
    for (const f of ['data', 'logs', STATE_FILE, 'server.properties']) rmSync(join(dataDir, f), { recursive: true, force: true });
    prev = null;
  }
  const formatted = existsSync(join(dataDir, 'data', 'meta.properties'));
  if (!formatted) prev = prev ? { ...prev, clusterId: undefined } : null;

  const port = opts.port
    ?? (prev?.port && (await portIsFree(prev.port)) ? prev.port : undefined)
    ?? (env('WEIR_KAFKA_PORT') ? Number(env('WEIR_KAFKA_PORT')) : undefined)
    ?? (await freePort());
  let controllerPort = opts.controllerPort
    ?? (prev?.controllerPort && prev.controllerPort !== port && (await portIsFree(prev.controllerPort)) ? prev.controllerPort : undefined);
  while (!controllerPort || controllerPort === port) controllerPort = await freePort();
  if (prev?.port && port !== prev.port) log(false, `port ${prev.port} is taken; broker moves to ${port}`);

  const logsDir = join(dataDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const logFile = join(logsDir, 'server.log');
  const stdoutFile = join(logsDir, 'stdout.log');
  const propsFile = join(dataDir, 'server.properties');
  const log4jFile = join(dataDir, 'log4j2.properties');
  writeFileSync(propsFile, serverProperties({ dataDir, port, controllerPort, config: opts.config }));
  writeFileSync(log4jFile, log4j2Properties(logFile, env('WEIR_KAFKA_LOG_LEVEL') ?? 'INFO'));
  writeFileSync(join(dataDir, 'tools-log4j2.properties'), toolsLog4j2Properties());

  const classpath = `${fetched.libDir}/*`;
  const baseJvm = [`-Dlog4j2.configurationFile=${log4jFile}`, `-Dkafka.logs.dir=${logsDir}`, '-Djava.awt.headless=true'];

  const clusterId = prev?.clusterId ?? randomClusterId();
  let formatMs = 0;
  if (!formatted) {
    const tf = performance.now();
    const res = await run(javaBin(), [
      ...baseJvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '--ignore-formatted',
      '--cluster-id', clusterId, '--config', propsFile,
    ], { timeoutMs: 120_000 });
    if (res.code !== 0) throw new Error(`kafka storage format failed (exit ${res.code}):\n${tail(res.output, 30)}`);
    formatMs = Math.round(performance.now() - tf);
  }

  const heap = splitOpts(env('WEIR_KAFKA_HEAP_OPTS') ?? '-Xms256m -Xmx1g');
  const jvm = splitOpts(env('WEIR_KAFKA_JVM_OPTS') ?? '-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError');
  const out = openSync(stdoutFile, 'a');
  const child = spawn(javaBin(), [...heap, ...jvm, ...baseJvm, '-cp', classpath, 'kafka.Kafka', propsFile], {
    cwd: dataDir,
    detached: true, // own process group: a Ctrl-C meant for the test runner does not kill the broker half-way
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const spawnError = new Promise((_, rej) => child.once('error', (e) => rej(new Error(`cannot start java: ${e.message}`))));
  spawnError.catch(() => {});
  child.unref();
  const exited = { code: null, signal: null, done: false };
  child.once('exit', (code, signal) => Object.assign(exited, { code, signal, done: true }));
  if (!opts.detached) {
    ownedPids.add(child.pid);
    installExitHook();
  }

  const state = {
    pid: child.pid, port, controllerPort, bootstrap: `${HOST}:${port}`, clusterId, version, dataDir, logFile,
    startedAt: new Date().toISOString(),
  };
  writeState(dataDir, state);

  try {
    await Promise.race([waitReady(child.pid, port, dataDir, startTimeoutMs, exited), spawnError]);
  } catch (e) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
    ownedPids.delete(child.pid);
    writeState(dataDir, { ...state, pid: null, stoppedAt: new Date().toISOString() });
    throw new Error(`${e.message}\n--- ${stdoutFile} ---\n${tailFile(stdoutFile, 20)}\n--- ${logFile} ---\n${tailFile(logFile, 30)}`);
  }
  const startMs = Math.round(performance.now() - t0);
  log(quiet, `broker pid ${child.pid} ready at ${HOST}:${port} in ${startMs} ms (format ${formatMs} ms)`);
  return makeHandle({ ...opts, dataDir, version }, state, { attached: false, startMs, formatMs, fetch: fetched, child, exited });
}

async function waitReady(pid, port, dataDir, timeoutMs, exited) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited?.done) throw new Error(`Kafka broker exited during start (code ${exited.code}, signal ${exited.signal})`);
    if (!exited && !pidIsOurBroker(pid, dataDir)) throw new Error(`Kafka broker pid ${pid} is gone`);
    if (await isReady(port)) return;
    await sleep(100);
  }
  throw new Error(`Kafka broker on ${HOST}:${port} not ready after ${timeoutMs} ms`);
}

function makeHandle(opts, state, info) {
  let current = { state, info };
  const handle = {
    get bootstrap() { return current.state.bootstrap; },
    get host() { return HOST; },
    get port() { return current.state.port; },
    get controllerPort() { return current.state.controllerPort; },
    get pid() { return current.state.pid; },
    get logFile() { return current.state.logFile; },
    get dataDir() { return current.state.dataDir; },
    get clusterId() { return current.state.clusterId; },
    get version() { return current.state.version; },
    /** Timings of the last start: { startMs, formatMs, fetch: { cached, ms } }; attached=true if it was already running. */
    get timings() { return { startMs: current.info.startMs, formatMs: current.info.formatMs ?? 0, fetch: current.info.fetch }; },
    get attached() { return current.info.attached; },
    /** Stop the broker (SIGTERM, wait, then SIGKILL). `{ signal: 'SIGKILL' }` simulates a crash; `{ removeData: true }` deletes the data dir. */
    stop: (stopOpts = {}) => stopBroker({ ...stopOpts, dataDir: current.state.dataDir, pid: current.state.pid, quiet: opts.quiet ?? true }),
    /** Stop (if running) and start again with the same data dir and the same ports. */
    restart: async (stopOpts = {}) => {
      await handle.stop(stopOpts);
      const again = await startBroker({
        ...opts, fresh: false, dataDir: current.state.dataDir, port: current.state.port, controllerPort: current.state.controllerPort,
      });
      current = { state: { ...current.state, pid: again.pid, startedAt: new Date().toISOString() }, info: { ...again.timings, attached: false } };
      return handle;
    },
  };
  return handle;
}

/**
 * Stop the broker of a data dir (default: the default data dir), also from another process: SIGTERM, wait up to
 * timeoutMs (default 30 s, $WEIR_KAFKA_STOP_TIMEOUT_MS) for a clean shutdown, then SIGKILL.
 * Data is kept unless `removeData: true` (then the whole data dir is deleted). `signal: 'SIGKILL'` simulates a crash.
 * @returns {Promise<{ stopped: boolean, forced: boolean, ms: number, pid: number | null }>}
 */
export async function stopBroker(target = {}) {
  const t0 = performance.now();
  const dataDir = resolve(target.dataDir ?? defaultDataDir());
  const quiet = target.quiet ?? true;
  const state = readState(dataDir);
  const pid = target.pid ?? state?.pid ?? null;
  const timeoutMs = target.timeoutMs ?? Number(env('WEIR_KAFKA_STOP_TIMEOUT_MS') ?? 30_000);
  const signal = target.signal ?? 'SIGTERM';
  const result = (stopped, forced) => ({ stopped, forced, pid, ms: Math.round(performance.now() - t0) });
  const markStopped = () => {
    ownedPids.delete(pid);
    const s = readState(dataDir);
    if (s && s.pid === pid) writeState(dataDir, { ...s, pid: null, stoppedAt: new Date().toISOString() });
  };
  const removeData = () => {
    if (target.removeData) rmSync(dataDir, { recursive: true, force: true });
  };

  if (!pid || !pidIsOurBroker(pid, dataDir)) {
    if (pid) markStopped();
    removeData();
    return result(false, false);
  }
  try { process.kill(pid, signal); } catch { /* gone */ }
  let forced = signal === 'SIGKILL';
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(50);
  if (pidAlive(pid)) {
    log(quiet, `broker pid ${pid} ignored ${signal} for ${timeoutMs} ms; killing`);
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    forced = true;
    const killDeadline = Date.now() + 10_000;
    while (pidAlive(pid) && Date.now() < killDeadline) await sleep(50);
  }
  markStopped();
  removeData();
  // The broker port is released with the process; wait briefly so an immediate restart can bind it again.
  if (state?.port) {
    const portDeadline = Date.now() + 5000;
    while (!(await portIsFree(state.port)) && Date.now() < portDeadline) await sleep(50);
  }
  log(quiet, `broker pid ${pid} stopped in ${result(true, forced).ms} ms${forced ? ' (killed)' : ''}`);
  return result(true, forced);
}

/** Status of the broker of a data dir: the state file plus whether the process lives and answers. */
export async function brokerStatus({ dataDir = defaultDataDir() } = {}) {
  dataDir = resolve(dataDir);
  const state = readState(dataDir);
  const running = !!(state?.pid && pidIsOurBroker(state.pid, dataDir));
  const ready = running ? await isReady(state.port) : false;
  return { dataDir, running, ready, ...(state ?? {}) };
}

/**
 * Use the user's cluster when $WEIR_KAFKA_BOOTSTRAP is set (stop/restart are then no-ops / unavailable),
 * otherwise start a local broker with startBroker(opts).
 */
export async function ensureKafka(opts = {}) {
  const external = env('WEIR_KAFKA_BOOTSTRAP');
  if (external) {
    return { bootstrap: external, external: true, pid: null, logFile: null, stop: async () => ({ stopped: false }), restart: undefined };
  }
  const h = await startBroker(opts);
  return Object.defineProperty(h, 'external', { value: false, enumerable: true });
}

// ---------------------------------------------------------------------------------------------------------------------
// Kafka's own CLI tools on the same classpath
// ---------------------------------------------------------------------------------------------------------------------

/** Short names for Kafka's command-line classes. */
export const TOOLS = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  'console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  transactions: 'org.apache.kafka.tools.TransactionsCommand',
  configs: 'org.apache.kafka.admin.ConfigCommand',
  'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  'metadata-quorum': 'org.apache.kafka.tools.MetadataQuorumCommand',
  'producer-perf-test': 'org.apache.kafka.tools.ProducerPerformance',
  'consumer-perf-test': 'org.apache.kafka.tools.ConsumerPerformance',
  storage: 'kafka.tools.StorageTool',
};

/**
 * Run one of Kafka's CLI classes (a TOOLS alias or a full class name) with the fetched jars.
 * @returns {Promise<{ code: number, output: string }>}
 */
export async function runKafkaTool(tool, args, { input, timeoutMs = 120_000, version } = {}) {
  const jvmArgs = await toolJvmArgs(tool, args, version);
  if (input === undefined) return run(javaBin(), jvmArgs, { timeoutMs });
  const r = spawnSync(javaBin(), jvmArgs, { input, timeout: timeoutMs, encoding: 'utf8' });
  return { code: r.status ?? 1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

async function toolJvmArgs(tool, args, version) {
  const { libDir: lib } = await fetchKafka({ version, quiet: true });
  const cfg = join(cacheDir(), 'tools-log4j2.properties');
  if (!existsSync(cfg)) {
    mkdirSync(cacheDir(), { recursive: true });
    writeFileSync(cfg, toolsLog4j2Properties());
  }
  return ['-Xmx512m', `-Dlog4j2.configurationFile=${cfg}`, '-cp', `${lib}/*`, TOOLS[tool] ?? tool, ...args];
}

/** Create a topic with Kafka's TopicCommand (no JS client needed). */
export async function createTopic(bootstrap, topic, { partitions = 1, config = {} } = {}) {
  const args = ['--bootstrap-server', bootstrap, '--create', '--if-not-exists', '--topic', topic, '--partitions', String(partitions),
    '--replication-factor', '1', ...Object.entries(config).flatMap(([k, v]) => ['--config', `${k}=${v}`])];
  const r = await runKafkaTool('topics', args);
  if (r.code !== 0) throw new Error(`creating topic ${topic} failed:\n${tail(r.output, 20)}`);
}

/**
 * Prove transactions work on `bootstrap` with Kafka's own Java client (TxSmoke.java beside this file, run as a
 * single-file program): 100 committed + 50 aborted + 50 committed records, read back read_committed (150) and
 * read_uncommitted (200), then a consume-transform-produce loop with sendOffsetsToTransaction.
 * @returns {Promise<{ ok: boolean, readCommitted: number, abortedSeen: number, readUncommitted: number, moved: number,
 *   output: number, committedOffsets: number, createTopicsMs: number, initTransactionsMs: number, produceMs: number,
 *   totalMs: number, wallMs: number }>}
 */
export async function runTxSmoke(bootstrap, { prefix = `weir-smoke-${Date.now()}`, timeoutMs = 180_000 } = {}) {
  const t0 = performance.now();
  const r = await runKafkaTool(join(HERE, 'TxSmoke.java'), [bootstrap, prefix], { timeoutMs });
  const line = r.output.split('\n').reverse().find((l) => l.startsWith('{"ok"'));
  if (!line) throw new Error(`TxSmoke produced no result (exit ${r.code}):\n${tail(r.output, 30)}`);
  return { ...JSON.parse(line), wallMs: Math.round(performance.now() - t0) };
}

/**
 * Every record of `topic` as a read_committed consumer (Kafka's own Java client) sees it, read up to each partition's last
 * stable offset; resolves as soon as that end is reached (the console consumer can only stop after a time without records).
 * @returns {Promise<{ partition: number, offset: number, key: string | null, value: string | null }[]>}
 */
export async function readCommitted(bootstrap, topic, { timeoutMs = 60_000 } = {}) {
  const r = await runKafkaTool(join(HERE, 'ReadCommitted.java'), [bootstrap, topic, String(timeoutMs)], { timeoutMs: timeoutMs + 60_000 });
  const lines = r.output.split('\n');
  const end = lines.find((l) => /^end \d+$/.test(l));
  if (r.code !== 0 || end === undefined) throw new Error(`reading ${topic} read_committed did not reach its end (exit ${r.code}):\n${tail(r.output, 30)}`);
  const records = [];
  for (const line of lines) {
    const m = /^(\d+)\t(\d+)\t(.*?)\t(.*)$/.exec(line);
    if (!m) continue;
    records.push({ partition: Number(m[1]), offset: Number(m[2]), key: m[3] === 'null' ? null : m[3], value: m[4] === 'null' ? null : m[4] });
  }
  if (records.length !== Number(end.slice(4))) throw new Error(`reading ${topic}: ${records.length} records parsed, the reader counted ${end.slice(4)}`);
  return records;
}

// ---------------------------------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------------------------------

function parseFlags(argv) {
  const flags = {};
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || rest.length) { rest.push(a); continue; }
    const key = m[1];
    if (m[2] !== undefined) flags[key] = m[2];
    else if (['fresh', 'json', 'kill'].includes(key)) flags[key] = true;
    else flags[key] = argv[++i];
  }
  return { flags, rest };
}

const USAGE = `usage: node scripts/kafka/broker.mjs <command> [flags]
  fetch                               download the pinned Kafka jars with Maven (cached)
  start   [--port N] [--controller-port N] [--data-dir D] [--fresh] [--json]
                                      start a detached broker (or reuse the running one); prints the bootstrap address
  stop    [--data-dir D] [--kill]     stop it (SIGTERM, then SIGKILL after $WEIR_KAFKA_STOP_TIMEOUT_MS); --kill = crash it
  restart [--data-dir D]              stop, then start on the same data dir and ports
  status  [--data-dir D]              print the state as JSON; exit 0 if running and ready, 3 otherwise
  smoke   [--bootstrap H:P] [--data-dir D]
                                      transactions check with Kafka's Java client (starts the local broker unless
                                      --bootstrap or $WEIR_KAFKA_BOOTSTRAP names a cluster)
  tool    <alias|class> [args...]     run a Kafka CLI class with the fetched jars, e.g.
                                      tool topics --bootstrap-server 127.0.0.1:PORT --list
                                      aliases: ${Object.keys(TOOLS).join(', ')}
env: WEIR_KAFKA_VERSION WEIR_KAFKA_CACHE_DIR WEIR_KAFKA_LIB_DIR WEIR_KAFKA_DATA_DIR WEIR_KAFKA_PORT WEIR_KAFKA_JAVA
     WEIR_KAFKA_HEAP_OPTS WEIR_KAFKA_JVM_OPTS WEIR_KAFKA_LOG_LEVEL WEIR_KAFKA_MVN WEIR_KAFKA_MVN_ARGS
     WEIR_KAFKA_START_TIMEOUT_MS WEIR_KAFKA_STOP_TIMEOUT_MS`;

async function main(argv) {
  const [cmd, ...more] = argv;
  const { flags, rest } = parseFlags(more);
  const dataDir = flags['data-dir'];
  switch (cmd) {
    case 'fetch': {
      const r = await fetchKafka({ quiet: false });
      process.stdout.write(`${r.libDir}\n`);
      process.stderr.write(`[weir-kafka] Kafka ${r.version}: ${r.cached ? 'cached' : 'downloaded'} (${r.ms} ms)\n`);
      return 0;
    }
    case 'start':
    case 'restart': {
      if (cmd === 'restart') await stopBroker({ dataDir, quiet: false });
      const h = await startBroker({
        dataDir, detached: true, quiet: false, fresh: !!flags.fresh,
        port: flags.port ? Number(flags.port) : undefined,
        controllerPort: flags['controller-port'] ? Number(flags['controller-port']) : undefined,
      });
      const info = { bootstrap: h.bootstrap, pid: h.pid, port: h.port, controllerPort: h.controllerPort, dataDir: h.dataDir,
        logFile: h.logFile, version: h.version, reused: h.attached, timings: h.timings };
      process.stdout.write(flags.json ? `${JSON.stringify(info, null, 2)}\n` : `${h.bootstrap}\n`);
      return 0;
    }
    case 'stop': {
      const r = await stopBroker({ dataDir, quiet: false, signal: flags.kill ? 'SIGKILL' : 'SIGTERM' });
      if (!r.stopped) process.stderr.write('[weir-kafka] no broker was running\n');
      return 0;
    }
    case 'status': {
      const s = await brokerStatus({ dataDir });
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      return s.running && s.ready ? 0 : 3;
    }
    case 'smoke': {
      const bootstrap = flags.bootstrap ?? env('WEIR_KAFKA_BOOTSTRAP') ?? (await startBroker({ dataDir, detached: true, quiet: false })).bootstrap;
      const r = await runTxSmoke(bootstrap);
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return r.ok ? 0 : 1;
    }
    case 'tool': {
      const [tool, ...args] = rest;
      if (!tool) throw new Error('tool needs a name');
      const r = spawnSync(javaBin(), await toolJvmArgs(tool, args), { stdio: 'inherit' });
      return r.status ?? 1;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return cmd && !['help', '--help', '-h'].includes(cmd) ? 2 : 0;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e) => { process.stderr.write(`[weir-kafka] ${e.message}\n`); process.exitCode = 1; },
  );
}
