// Nexmark q0, q1, q2 as weir jobs give the hand-written loops' outputs, locally and on two threads.
import { describe, expect, it } from 'vitest';
import { expectSameAsLoop, loopOutput } from './queries-helpers.ts';

describe('Nexmark stateless queries', () => {
  it('q0 passes every bid through', async () => {
    const out = await expectSameAsLoop('q0');
    expect(out.length).toBe(loopOutput('q0').length);
  });
  it('q1 converts prices', async () => {
    await expectSameAsLoop('q1');
  });
  it('q2 selects auctions % 123', async () => {
    await expectSameAsLoop('q2');
  });
});
