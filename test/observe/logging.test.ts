// Job events as log lines: one JSON object each, at the level of its consequence, with the fields a log collector filters on; the pretty form is the CLI's `weir: …` line.
import { describe, expect, it } from 'vitest';
import { createLogger, logJobEvent } from '../../src/observe/logging.ts';
import type { JobEvent } from '../../src/actors/job-master.ts';

function capture(format: 'json' | 'pretty', level: 'debug' | 'info' = 'debug') {
  const lines: string[] = [];
  const logger = createLogger({
    format,
    level,
    base: { jobId: 'ab'.repeat(16) },
    write: (t) => lines.push(...t.split('\n').filter((l) => l !== '')),
  });
  return { logger, lines };
}

const EVENTS: JobEvent[] = [
  { kind: 'checkpoint-completed', id: 4, savepoint: false, durationMs: 12.4, sizeBytes: 2048 },
  { kind: 'checkpoint-completed', id: 5, savepoint: true, durationMs: 30.6, sizeBytes: 4096, path: '/sp/savepoint-5' },
  { kind: 'checkpoint-failed', id: 6, savepoint: false, reason: "declined by 'Map' (subtask 1): out of disk" },
  { kind: 'checkpoint-failed', savepoint: true, reason: 'the job has no checkpointing' },
];

describe('logJobEvent', () => {
  it('writes checkpoints at debug, savepoints at info, failed checkpoints and declined savepoints at warn with their cause', () => {
    const { logger, lines } = capture('json');
    for (const e of EVENTS) logJobEvent(logger, e);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map(({ time, pid, ...rest }) => (expect(typeof time).toBe('string'), expect(pid).toBe(process.pid), rest))).toEqual([
      {
        level: 'debug',
        jobId: 'ab'.repeat(16),
        event: 'checkpoint-completed',
        checkpointId: 4,
        savepoint: false,
        durationMs: 12,
        sizeBytes: 2048,
        msg: 'checkpoint 4 completed in 12 ms, 2048 bytes',
      },
      {
        level: 'info',
        jobId: 'ab'.repeat(16),
        event: 'checkpoint-completed',
        checkpointId: 5,
        savepoint: true,
        durationMs: 31,
        sizeBytes: 4096,
        path: '/sp/savepoint-5',
        msg: 'savepoint 5 completed in 31 ms, 4096 bytes at /sp/savepoint-5',
      },
      {
        level: 'warn',
        jobId: 'ab'.repeat(16),
        event: 'checkpoint-failed',
        checkpointId: 6,
        savepoint: false,
        reason: "declined by 'Map' (subtask 1): out of disk",
        msg: "checkpoint 6 failed: declined by 'Map' (subtask 1): out of disk",
      },
      {
        level: 'warn',
        jobId: 'ab'.repeat(16),
        event: 'checkpoint-failed',
        savepoint: true,
        reason: 'the job has no checkpointing',
        msg: 'savepoint declined: the job has no checkpointing',
      },
    ]);
  });

  it('prints the pretty form as weir: lines, and info hides the routine checkpoints', () => {
    const { logger, lines } = capture('pretty', 'info');
    for (const e of EVENTS) logJobEvent(logger, e);
    expect(lines).toEqual([
      'weir: savepoint 5 completed in 31 ms, 4096 bytes at /sp/savepoint-5',
      "weir: checkpoint 6 failed: declined by 'Map' (subtask 1): out of disk",
      'weir: savepoint declined: the job has no checkpointing',
    ]);
  });
});
