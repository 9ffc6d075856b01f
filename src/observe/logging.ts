//! Structured logs through pino: one JSON object per line (job id, operator, subtask, checkpoint id, level) for log collectors, or the CLI's `weir: …` lines through pino-pretty on a terminal.

import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { describeJobEvent, type JobEvent } from '../actors/job-master.ts';
import { WeirError } from '../core/errors.ts';

/** Log levels, most verbose first (pino's, plus `silent`). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `json`: one object per line; `pretty`: `weir: <message>` lines; `auto`: pretty on a terminal, JSON otherwise. */
export type LogFormat = 'json' | 'pretty' | 'auto';

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** File descriptor to write to (default 2, stderr). */
  fd?: number;
  /** Fields on every line (e.g. `{ jobId }`). */
  base?: Record<string, unknown>;
  /** Where lines go instead of the descriptor (e.g. above the CLI's progress area); `fd` still decides `auto`. */
  write?: (text: string) => void;
}

/** Fields that the pretty form leaves out: they are in the message already, or only for machines. */
const STRUCTURED = [
  'pid',
  'hostname',
  'time',
  'level',
  'jobId',
  'job',
  'event',
  'operator',
  'subtask',
  'checkpointId',
  'savepoint',
  'durationMs',
  'sizeBytes',
  'reason',
  'attempt',
  'error',
  'path',
];

/** The format `auto` stands for on this descriptor. */
export function resolveLogFormat(format: LogFormat, fd = 2): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  const stream = fd === 1 ? process.stdout : process.stderr;
  return stream.isTTY ? 'pretty' : 'json';
}

/** A logger writing synchronously (a line is out before the process can exit or be killed). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const fd = options.fd ?? 2;
  const level = options.level ?? 'info';
  const write = options.write;
  if (resolveLogFormat(options.format ?? 'auto', fd) === 'pretty') {
    const stream = pretty({
      sync: true,
      destination: write
        ? new Writable({
            write(chunk: Buffer, _encoding, done) {
              write(chunk.toString('utf8'));
              done();
            },
          })
        : fd,
      colorize: Boolean((fd === 1 ? process.stdout : process.stderr).isTTY),
      ignore: STRUCTURED.join(','),
      hideObject: true,
      messageFormat: 'weir: {msg}',
    });
    return pino({ level, base: options.base ?? null }, stream);
  }
  return pino(
    {
      level,
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    write ? { write } : pino.destination({ dest: fd, sync: true }),
  );
}

/** The error as log fields: its class, code and first line (the stack stays out of the CLI's logs). */
function errorFields(error: Error): Record<string, unknown> {
  return {
    type: error.name,
    ...(error instanceof WeirError ? { code: error.code } : {}),
    message: error.message.split('\n')[0],
  };
}

/** One log line for a job event, at the level its consequence deserves. */
export function logJobEvent(logger: Logger, event: JobEvent): void {
  const msg = describeJobEvent(event);
  switch (event.kind) {
    case 'attempt-failed': {
      const fields = {
        event: event.kind,
        attempt: event.attempt,
        operator: event.operator,
        subtask: event.subtask,
        error: errorFields(event.error),
        next: event.next.action,
        ...(event.next.action === 'restart' ? { restart: event.next.restart, delayMs: event.next.delayMs, from: event.next.from } : {}),
      };
      if (event.next.action === 'restart') logger.warn(fields, msg);
      else logger.error(fields, msg);
      return;
    }
    case 'checkpoint-skipped':
    case 'warning':
      logger.warn({ event: event.kind }, msg);
      return;
    case 'checkpoint-completed': {
      const fields = {
        event: event.kind,
        checkpointId: event.id,
        savepoint: event.savepoint,
        durationMs: Math.round(event.durationMs),
        sizeBytes: event.sizeBytes,
        ...(event.path ? { path: event.path } : {}),
      };
      // A checkpoint every few seconds is routine (the status area shows the last one); a savepoint is an operator's act.
      if (event.savepoint) logger.info(fields, msg);
      else logger.debug(fields, msg);
      return;
    }
    case 'checkpoint-failed':
      logger.warn(
        {
          event: event.kind,
          ...(event.id === undefined ? {} : { checkpointId: event.id }),
          savepoint: event.savepoint,
          reason: event.reason,
        },
        msg,
      );
      return;
    case 'resumed':
      logger.info({ event: event.kind, checkpointId: event.id, path: event.path }, msg);
      return;
    case 'checkpoint-folder':
      logger.info({ event: event.kind, path: event.path }, msg);
      return;
    default:
      logger.info({ event: event.kind }, msg);
  }
}
