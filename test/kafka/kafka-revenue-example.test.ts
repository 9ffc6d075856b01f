// The Kafka revenue example end to end by its one command (`npm run demo:kafka`): it starts its own broker, and the hourly revenue it reads back equals an independent computation.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { orderAt, orderStreamConfig, type CustomerRevenue, type Order } from '../../examples/revenue-pipeline.ts';
import { brokerStatus, stopBroker, tempDataDir } from '../../scripts/kafka/broker.mjs';

const ORDERS = 20_000;

describe('examples/kafka-revenue-demo.ts', () => {
  it('produces orders, runs the job and reads back every customer-hour revenue exactly once; stops the broker it started', async () => {
    const dataDir = tempDataDir('kafka-demo-test');
    try {
      // delayed=0: no order is late whatever the watermark timing, so every paid order is in its hour's window
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'examples/kafka-revenue-demo.ts', '--orders', String(ORDERS), '--delayed', '0', '--json'],
        {
          encoding: 'utf8',
          timeout: 280_000,
          maxBuffer: 256 * 2 ** 20,
          env: { ...process.env, WEIR_KAFKA_DATA_DIR: dataDir, WEIR_KAFKA_BOOTSTRAP: '' },
        },
      );
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/local broker started for this run/);
      const out = JSON.parse(run.stdout) as { orders: number; revenue: CustomerRevenue[]; late: Order[] };

      const config = orderStreamConfig({ orders: String(ORDERS), hours: '12', customers: '5000', delayed: '0' });
      const expected = new Map<string, number>();
      for (let i = 0; i < ORDERS; i++) {
        const o = orderAt(i, config);
        if (o.amount <= 0) continue;
        const hour = o.ts - (o.ts % 3_600_000);
        const id = `${o.customerId}@${hour}`;
        expected.set(id, (expected.get(id) ?? 0) + o.amount);
      }
      const ids = out.revenue.map((r) => `${r.customerId}@${r.windowStart}`);
      expect(new Set(ids).size, 'duplicates').toBe(ids.length);
      expect(new Map(out.revenue.map((r) => [`${r.customerId}@${r.windowStart}`, r.revenue]))).toEqual(expected);
      for (const r of out.revenue) expect(r.windowEnd - r.windowStart).toBe(3_600_000);
      expect(out.late).toEqual([]);
      expect((await brokerStatus({ dataDir })).running).toBe(false);
    } finally {
      await stopBroker({ dataDir, removeData: true });
    }
  }, 300_000);
});
