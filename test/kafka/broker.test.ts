// Smoke test of scripts/kafka/broker.mjs: a real one-node Kafka starts, runs transactions, survives stop/restart and a crash, and the CLI drives it across processes.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PROJECT_ROOT,
  brokerStatus,
  createTopic,
  probeMetadata,
  runKafkaTool,
  runTxSmoke,
  startBroker,
  stopBroker,
  tempDataDir,
  type BrokerHandle,
} from '../../scripts/kafka/broker.mjs';

const SCRIPT = join(PROJECT_ROOT, 'scripts', 'kafka', 'broker.mjs');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

async function refused(port: number): Promise<boolean> {
  try {
    await probeMetadata(port, '127.0.0.1', 1000);
    return false;
  } catch {
    return true;
  }
}

describe('local Kafka broker (scripts/kafka/broker.mjs)', () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await startBroker({ dataDir: tempDataDir('kafka-test') });
  }, 300_000); // the first run on a machine downloads the jars with Maven

  afterAll(async () => {
    await broker?.stop({ removeData: true });
  }, 60_000);

  it('answers a metadata request on 127.0.0.1 with one live broker', async () => {
    expect(broker.bootstrap).toBe(`127.0.0.1:${broker.port}`);
    expect(existsSync(broker.logFile)).toBe(true);
    const md = await probeMetadata(broker.port);
    expect(md.brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: broker.port }]);
    expect(md.clusterId).toBe(broker.clusterId);
  });

  it('commits and aborts transactions; read_committed sees only committed records', async () => {
    const r = await runTxSmoke(broker.bootstrap, { prefix: 'smoke1' });
    expect(r).toMatchObject({ ok: true, readCommitted: 150, abortedSeen: 0, readUncommitted: 200, moved: 150, output: 150 });
  }, 180_000);

  it('stops cleanly and restarts on the same port with its data', async () => {
    await createTopic(broker.bootstrap, 'survives-restart', { partitions: 3 });
    const port = broker.port;
    const oldPid = broker.pid;
    const stopped = await broker.stop();
    expect(stopped).toMatchObject({ stopped: true, forced: false });
    expect(await refused(port)).toBe(true);

    await broker.restart();
    expect(broker.port).toBe(port);
    expect(broker.pid).not.toBe(oldPid);
    const topics = await runKafkaTool('topics', ['--bootstrap-server', broker.bootstrap, '--list']);
    expect(topics.output.split('\n')).toContain('survives-restart');
    const r = await runTxSmoke(broker.bootstrap, { prefix: 'smoke2' });
    expect(r.ok).toBe(true);
  }, 240_000);

  it('comes back after a crash (SIGKILL)', async () => {
    const killed = await broker.stop({ signal: 'SIGKILL' });
    expect(killed.stopped).toBe(true);
    await broker.restart();
    const md = await probeMetadata(broker.port);
    expect(md.brokers).toHaveLength(1);
  }, 120_000);
});

describe('broker CLI', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = tempDataDir('kafka-cli');
  });

  afterAll(async () => {
    if (dataDir) await stopBroker({ dataDir, removeData: true });
  }, 60_000);

  it('start is idempotent, status reports, stop works from another process', async () => {
    const first = cli('start', '--data-dir', dataDir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^127\.0\.0\.1:\d+$/);

    const again = cli('start', '--data-dir', dataDir);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(first.stdout); // reused, not a second broker

    const status = cli('status', '--data-dir', dataDir);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, ready: true, bootstrap: first.stdout });

    expect(cli('stop', '--data-dir', dataDir).code).toBe(0);
    expect(cli('status', '--data-dir', dataDir).code).toBe(3);
    expect((await brokerStatus({ dataDir })).running).toBe(false);
  }, 180_000);
});
