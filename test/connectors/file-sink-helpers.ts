// Helpers of the exactly-once file sink tests: a fake operator context with a settable clock, and readers of the sink's directory.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import type { OperatorContext, SinkWriter } from '../../src/actors/operator.ts';
import { exactlyOnceFileSink, type ExactlyOnceFileSinkOptions } from '../../src/connectors/file-sink.ts';

/** A processing-time clock the test moves by hand. */
export class FakeClock {
  time = 0;
  now = (): number => this.time;
}

/** The part of an operator context the file sink reads. */
export function fakeContext(subtaskIndex: number, clock = new FakeClock(), parallelism = 1): OperatorContext {
  return {
    operatorName: 'files',
    operatorId: 'files',
    taskName: 'files',
    subtaskIndex,
    parallelism,
    maxParallelism: 128,
    keyed: false,
    autoWatermarkIntervalMs: 200,
    processingTime: { now: clock.now, registerTimer: () => () => undefined },
  } as unknown as OperatorContext;
}

/** Creates and opens one subtask's writer. */
export async function openWriter<T>(
  dir: string,
  options: ExactlyOnceFileSinkOptions<T>,
  restored?: readonly unknown[],
  subtask = 0,
  clock?: FakeClock,
): Promise<SinkWriter<T>> {
  const writer = exactlyOnceFileSink<T>(dir, options).createWriter(fakeContext(subtask, clock));
  await writer.open?.(restored);
  return writer;
}

/** A writer's state as it comes back from checkpoint storage: through msgpack. */
export function throughStorage(state: unknown): unknown {
  return unpack(pack(state));
}

/** Visible part files, by subtask then part number. */
export function visibleParts(dir: string): string[] {
  const key = (name: string) =>
    name
      .match(/-(\d+)-(\d+)/)!
      .slice(1)
      .map(Number);
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort((a, b) => {
      const [sa, na] = key(a);
      const [sb, nb] = key(b);
      return sa - sb || na - nb;
    });
}

/** Hidden (in-progress or pending) files. */
export function hiddenFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.startsWith('.'))
    .sort();
}

/** The lines of every visible part file, in part order. */
export function committedLines(dir: string): string[] {
  return visibleParts(dir).flatMap((name) =>
    readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .filter((l) => l.length > 0),
  );
}
