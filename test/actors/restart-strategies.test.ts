// Restart strategies decide, failure by failure, whether and when to restart: none, fixed delay, exponential delay, failure rate.
import { describe, expect, it } from 'vitest';
import { RestartBackoff, RestartStrategies } from '../../src/actors/restart-strategies.ts';

describe('restart strategies', () => {
  it('none gives up at the first failure', () => {
    expect(new RestartBackoff(RestartStrategies.noRestart()).onFailure(0)).toBeUndefined();
  });

  it('fixed delay restarts n times with the same delay', () => {
    const b = new RestartBackoff(RestartStrategies.fixedDelay(2, 150));
    expect([b.onFailure(0), b.onFailure(1), b.onFailure(2)]).toEqual([150, 150, undefined]);
    expect(b.describe()).toBe('fixed-delay restart strategy: 2 restart(s) used up');
  });

  it('exponential delay grows by the multiplier up to the maximum', () => {
    const b = new RestartBackoff(RestartStrategies.exponentialDelay(100, 500, 2, 5));
    expect([1, 2, 3, 4, 5, 6].map((t) => b.onFailure(t))).toEqual([100, 200, 400, 500, 500, undefined]);
  });

  it('failure rate gives up when too many failures fall within the interval, and forgives old ones', () => {
    const b = new RestartBackoff(RestartStrategies.failureRate(2, 1000, 10));
    expect(b.onFailure(0)).toBe(10);
    expect(b.onFailure(100)).toBe(10);
    expect(b.onFailure(1050)).toBe(10); // 0 has left the window: 100 and 1050 remain
    expect(b.onFailure(1090)).toBeUndefined(); // 100, 1050, 1090 within 1000 ms
  });
});
