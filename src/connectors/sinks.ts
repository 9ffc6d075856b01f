//! Built-in sinks: collect to the caller, print to stdout, and a line file sink.

import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OperatorContext, Sink, SinkWriter } from '../actors/operator.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import { TwoPhaseCommitSinkWriter } from './two-phase-commit.ts';

/** Formats a record as one line: strings as they are, everything else as JSON. */
export function formatLine(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return `${value}`;
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json;
}

/** A collect-sink transaction: the records since the last barrier, under a unique commit key. */
interface CollectTransaction {
  key: string;
  records: unknown[];
}

/**
 * The exactly-once collect sink: records go to the caller only when the checkpoint after them
 * completes; a restore commits pending ones again under the same key, which the coordinator
 * applies once.
 */
class TransactionalCollectWriter<T> extends TwoPhaseCommitSinkWriter<T, CollectTransaction> {
  private seq = 0;
  private readonly prefix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  constructor(
    private readonly id: string,
    private readonly ctx: OperatorContext,
  ) {
    super({ operator: ctx.operatorName, subtask: ctx.subtaskIndex });
  }
  protected beginTransaction(): CollectTransaction {
    return { key: `${this.id}/${this.ctx.subtaskIndex}/${this.prefix}/${this.seq++}`, records: [] };
  }
  protected invoke(txn: CollectTransaction, value: T): void {
    txn.records.push(value);
  }
  protected preCommit(): void {}
  protected commit(txn: CollectTransaction): void {
    if (txn.records.length > 0) this.ctx.reporter.collect(this.id, this.ctx.subtaskIndex, txn.records, txn.key);
  }
  /** A transaction of the restored checkpoint: the coordinator drops it if the run that took a savepoint delivered it. */
  protected override recoverAndCommit(txn: CollectTransaction): void {
    if (txn.records.length > 0) this.ctx.reporter.collect(this.id, this.ctx.subtaskIndex, txn.records, txn.key, true);
  }
  protected abort(): void {}
}

/**
 * Sends records to the caller: they appear in `JobResult.collected[id]`. With `exactlyOnce`,
 * records are handed over only when a checkpoint completes (two-phase commit), so a job that
 * restarts from checkpoints shows each record once.
 */
export function collectSink<T>(id: string, options: { exactlyOnce?: boolean } = {}): Sink<T> & { readonly collectId: string } {
  if (options.exactlyOnce) {
    return {
      name: `Collect Sink (${id})`,
      collectId: id,
      createWriter: (ctx: OperatorContext): SinkWriter<T> => new TransactionalCollectWriter<T>(id, ctx),
      commitsOnCheckpoint: true,
    };
  }
  return {
    name: `Collect Sink (${id})`,
    collectId: id,
    createWriter: (ctx: OperatorContext): SinkWriter<T> => {
      let buffer: unknown[] = [];
      const flush = () => {
        if (buffer.length === 0) return;
        ctx.reporter.collect(id, ctx.subtaskIndex, buffer);
        buffer = [];
      };
      return {
        write(value) {
          buffer.push(value);
          if (buffer.length >= 4096) flush();
        },
        endInput: flush,
        close: flush,
      };
    },
  };
}

/** Prints records to stdout, one per line, prefixed `n> ` by subtask when parallel (as Flink's print()). */
export function printSink<T>(prefix?: string): Sink<T> {
  return {
    name: 'Print to Std. Out',
    createWriter: (ctx: OperatorContext): SinkWriter<T> => {
      const head = [prefix, ctx.parallelism > 1 ? `${ctx.subtaskIndex + 1}` : undefined].filter((p) => p !== undefined).join(':');
      const lead = head ? `${head}> ` : '';
      let pending = '';
      let scheduled = false;
      const flush = () => {
        scheduled = false;
        if (pending) process.stdout.write(pending);
        pending = '';
      };
      return {
        write(value) {
          pending += `${lead}${formatLine(value)}\n`;
          if (pending.length > 1 << 16) flush();
          else if (!scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
        },
        close: flush,
      };
    },
  };
}

/** Options of {@link fileSink}. */
export interface FileSinkOptions {
  /** How records become lines (default: strings as they are, others JSON). */
  format?: (value: unknown) => string;
}

/**
 * Writes records as lines. At parallelism 1 `path` is the file; otherwise `path` is a directory
 * holding one file per subtask, named `1`, `2`, … (as Flink's writeAsText). Not part of
 * checkpoints: the exactly-once file sink comes with fault tolerance.
 */
export function fileSink<T>(path: string, options: FileSinkOptions = {}): Sink<T> {
  const format = options.format ?? formatLine;
  return {
    name: `File Sink (${path})`,
    createWriter: (ctx: OperatorContext): SinkWriter<T> => {
      const file = ctx.parallelism === 1 ? path : join(path, String(ctx.subtaskIndex + 1));
      let fd = -1;
      let pending: string[] = [];
      let size = 0;
      const fail = (error: unknown) =>
        new WeirError(`file sink '${ctx.operatorName}' (subtask ${ctx.subtaskIndex}) cannot write ${file}: ${(error as Error).message}`, {
          code: ErrorCodes.SINK_IO,
          domain: 'external',
          operator: ctx.operatorName,
          subtask: ctx.subtaskIndex,
          cause: error,
        });
      const flush = () => {
        if (pending.length === 0) return;
        try {
          writeSync(fd, pending.join(''));
        } catch (error) {
          throw fail(error);
        }
        pending = [];
        size = 0;
      };
      return {
        open() {
          try {
            mkdirSync(dirname(file), { recursive: true });
            fd = openSync(file, 'w');
          } catch (error) {
            throw fail(error);
          }
        },
        write(value) {
          const line = `${format(value)}\n`;
          pending.push(line);
          size += line.length;
          if (size >= 1 << 16) flush();
        },
        close() {
          if (fd < 0) return;
          flush();
          fsyncSync(fd);
          closeSync(fd);
          fd = -1;
        },
      };
    },
  };
}
