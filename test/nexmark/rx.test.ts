// The RxJS pipelines of the Nexmark harness give the hand-written loops' outputs (q0, q1, q2), and
// q12's window counts add up to the bids (RxJS emits the window open at completion).
import { describe, expect, it } from 'vitest';
import { canonical, nexmarkConfigOf, type Q12Out } from '../../bench/nexmark/lib.ts';
import { runRx } from '../../bench/nexmark/rx.ts';
import { PARAMS, loopOutput } from './queries-helpers.ts';

async function rxOutput(query: 'q0' | 'q1' | 'q2' | 'q12'): Promise<unknown[]> {
  const out: unknown[] = [];
  await runRx(query, nexmarkConfigOf(PARAMS), (r) => out.push(r));
  return out;
}

describe('Nexmark RxJS pipelines', () => {
  for (const query of ['q0', 'q1', 'q2'] as const) {
    it(`${query} equals the loop`, async () => {
      const expected = canonical(loopOutput(query));
      expect(expected.length).toBeGreaterThan(0);
      expect(canonical(await rxOutput(query))).toEqual(expected);
    });
  }
  it('q12 counts every bid once', async () => {
    const out = (await rxOutput('q12')) as Q12Out[];
    expect(out.reduce((s, t) => s + t[1], 0)).toBe(loopOutput('q0').length);
    expect(new Set(out.map((t) => `${t[0]}@${t[2]}`)).size).toBe(out.length);
  });
  it('rejects a query it does not express', () => {
    expect(() => runRx('q5', nexmarkConfigOf(PARAMS), () => {})).toThrow(/no RxJS pipeline/);
  });
});
