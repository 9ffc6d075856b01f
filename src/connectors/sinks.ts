//! Built-in sinks: collect to the caller, print to stdout, and a line file sink.

import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OperatorContext, Sink, SinkWriter } from '../actors/operator.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';

/** Formats a record as one line: strings as they are, everything else as JSON. */
export function formatLine(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return `${value}`;
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json;
}

/** Sends records to the caller: they appear in `JobResult.collected[id]`. */
export function collectSink<T>(id: string): Sink<T> & { readonly collectId: string } {
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
