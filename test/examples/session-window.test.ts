// The session-window example: per-user sessions (30 min gap) with clicks and duration equal a plain loop's, on threads and locally.
import { describe, expect, it } from 'vitest';
import { executeJob, type JobParams } from '../../src/index.ts';
import { SESSION_GAP, clickAt, clickStreamConfig, type UserSession } from '../../examples/session-window.ts';

const JOB = 'examples/session-window.ts';
const PARAMS: JobParams = { clicks: 40_000, hours: 6, users: 300, output: 'collect' };

/** Each user's clicks in time order: a new session when the next click comes more than the gap after the last. */
function expectedSessions(): { sessions: UserSession[]; exactGaps: number } {
  const config = clickStreamConfig(PARAMS);
  const byUser = new Map<string, number[]>();
  for (let i = 0; i < config.clicks; i++) {
    const c = clickAt(i, config);
    const list = byUser.get(c.userId);
    if (list) list.push(c.ts);
    else byUser.set(c.userId, [c.ts]);
  }
  const sessions: UserSession[] = [];
  let exactGaps = 0;
  for (const [userId, times] of byUser) {
    times.sort((a, b) => a - b);
    let first = times[0];
    let clicks = 1;
    for (let k = 1; k <= times.length; k++) {
      const gap = k < times.length ? times[k] - times[k - 1] : Number.POSITIVE_INFINITY;
      if (gap === SESSION_GAP) exactGaps++;
      if (gap > SESSION_GAP) {
        const last = times[k - 1];
        sessions.push({ userId, start: first, end: last + SESSION_GAP, clicks, durationMs: last - first });
        first = times[k];
        clicks = 1;
      } else clicks++;
    }
  }
  return { sessions: sorted(sessions), exactGaps };
}

const sorted = (rows: UserSession[]) =>
  [...rows].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0) || a.start - b.start);

describe('session-window example', () => {
  const { sessions, exactGaps } = expectedSessions();

  it('generates users with several sessions each, and no two clicks exactly a gap apart', () => {
    // Windows touching at exactly the gap merge only if the first has not fired yet: timing would decide.
    expect(exactGaps).toBe(0);
    expect(sessions.length).toBeGreaterThan(3 * 300);
    expect(sessions.some((s) => s.durationMs > 2 * SESSION_GAP)).toBe(true);
  });

  for (const [mode, parallelism] of [
    ['threads', 1],
    ['threads', 2],
    ['local', 2],
  ] as const) {
    it(`merges each user's clicks into sessions with their clicks and duration (${mode}, p=${parallelism})`, async () => {
      const result = await executeJob(JOB, { mode, parallelism, params: PARAMS });
      expect(sorted(result.collected.sessions as UserSession[])).toEqual(sessions);
    });
  }
});
