// The README's SQL quick start: examples/sql/revenue.sql through `weir sql -f`, exact hourly revenue with an out-of-order order kept and a late one dropped.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('examples/sql/revenue.sql', () => {
  it('prints the hourly revenue per customer, keeps an order within the 30 s bound and drops a late one', () => {
    const run = spawnSync(process.execPath, ['bin/weir.js', 'sql', '-f', 'examples/sql/revenue.sql'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const rows = run.stdout.split('\n').filter((l) => l.startsWith('+I[')).sort();
    expect(rows).toEqual(
      [
        // bob's order at 10:59:58 comes after alice's at 11:00:20, within the bound: it counts (800 + 700 + 1000).
        '+I[bob, 2026-12-01 10:00:00.000, 2500]',
        '+I[alice, 2026-12-01 10:00:00.000, 1200]',
        '+I[carol, 2026-12-01 10:00:00.000, 4500]',
        '+I[alice, 2026-12-01 11:00:00.000, 900]',
        '+I[carol, 2026-12-01 11:00:00.000, 250]',
        '+I[alice, 2026-12-01 12:00:00.000, 600]',
        '+I[carol, 2026-12-01 12:00:00.000, 1500]',
      ].sort(),
    );
    // bob's order at 11:10 comes after the watermark passed 12:00 (alice at 12:05): late, dropped and counted.
    expect(run.stdout).toContain('late rows dropped: 1');
  });
});
