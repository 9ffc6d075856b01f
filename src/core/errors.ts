//! weir's error type: a stable code, a domain, a retriable flag, the place it happened, and a way to cross threads as data.

/** Who is to blame for an error: the user's code or input, an outside system, or weir itself. */
export type ErrorDomain = 'user' | 'external' | 'internal';

/** Where in a running job an error happened. */
export interface ErrorLocation {
  /** Operator name (as given by `.name()` or derived). */
  operator?: string;
  /** Zero-based subtask index of the operator. */
  subtask?: number;
  /** A data-plane edge, `producer -> consumer`, for errors raised while writing to it. */
  edge?: string;
}

/** Stable error codes; match on these, never on message text. */
export const ErrorCodes = {
  USER_FUNCTION: 'WEIR_USER_FUNCTION',
  RECORD_NOT_ENCODABLE: 'WEIR_RECORD_NOT_ENCODABLE',
  GRAPH_INVALID: 'WEIR_GRAPH_INVALID',
  GRAPH_MISMATCH: 'WEIR_GRAPH_MISMATCH',
  JOB_MODULE: 'WEIR_JOB_MODULE',
  WORKER_LOST: 'WEIR_WORKER_LOST',
  OUT_OF_MEMORY: 'WEIR_OUT_OF_MEMORY',
  JOB_CANCELLED: 'WEIR_JOB_CANCELLED',
  JOB_NOT_RUNNING: 'WEIR_JOB_NOT_RUNNING',
  STATE_ACCESS: 'WEIR_STATE_ACCESS',
  STATE_RESTORE: 'WEIR_STATE_RESTORE',
  CHECKPOINT_STORAGE: 'WEIR_CHECKPOINT_STORAGE',
  CONFIG: 'WEIR_CONFIG',
  INVALID_TIMESTAMP: 'WEIR_INVALID_TIMESTAMP',
  SINK_IO: 'WEIR_SINK_IO',
  SOURCE_IO: 'WEIR_SOURCE_IO',
  SOURCE_FORMAT: 'WEIR_SOURCE_FORMAT',
  SQL_PARSE: 'WEIR_SQL_PARSE',
  SQL_VALIDATION: 'WEIR_SQL_VALIDATION',
  SQL_UNSUPPORTED: 'WEIR_SQL_UNSUPPORTED',
  INTERNAL: 'WEIR_INTERNAL',
} as const;

/** One of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Options accepted by {@link WeirError}. */
export interface WeirErrorOptions extends ErrorLocation {
  code: ErrorCode;
  domain: ErrorDomain;
  /** See {@link WeirError.retriable}; leave it out when a restart may or may not help. */
  retriable?: boolean;
  cause?: unknown;
}

/** The base of every error weir raises. */
export class WeirError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Who is to blame. */
  readonly domain: ErrorDomain;
  /**
   * Whether restarting the job can help: `true` it may (a lost worker, a flaky connection),
   * `false` it cannot (an unwritable or full checkpoint folder, malformed input under the `fail`
   * policy, a configuration error) and the supervisor fails the job at once with this error,
   * `undefined` not known: the supervisor restarts as its strategy allows (Flink restarts every
   * failure that is not marked as suppressing restarts).
   */
  readonly retriable: boolean | undefined;
  /** Operator where it happened, if known. */
  readonly operator: string | undefined;
  /** Subtask index where it happened, if known. */
  readonly subtask: number | undefined;
  /** Data-plane edge where it happened, if known. */
  readonly edge: string | undefined;

  constructor(message: string, options: WeirErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WeirError';
    this.code = options.code;
    this.domain = options.domain;
    this.retriable = options.retriable;
    this.operator = options.operator;
    this.subtask = options.subtask;
    this.edge = options.edge;
  }
}

/** weir's own code: frames under `<package>/src/` or `<package>/dist/` (this file is `<package>/<src|dist>/core/errors`). */
const OWN_CODE = new URL('../', import.meta.url).href;

/**
 * The user's place in a stack trace: the first frame that is neither weir's own code, nor Node's,
 * nor a package's, as `file:line:column` (relative to the working directory when under it).
 */
export function userFrame(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  for (const line of stack.split('\n')) {
    const match = /^\s+at (?:.*\()?((?:file:\/\/)?\/[^\s()]+?):(\d+):(\d+)\)?$/.exec(line);
    if (!match) continue;
    const url = match[1].startsWith('file:') ? match[1] : `file://${match[1]}`;
    if (url.startsWith(OWN_CODE) || url.includes('/node_modules/')) continue;
    let path = decodeURIComponent(new URL(url).pathname);
    const cwd = typeof process === 'undefined' ? '' : `${process.cwd()}/`;
    if (cwd && path.startsWith(cwd)) path = path.slice(cwd.length);
    return `${path}:${match[2]}:${match[3]}`;
  }
  return undefined;
}

/** Wraps an exception thrown by user code, naming the operator, the subtask and the user's file and line. */
export function userFunctionError(cause: unknown, operator: string, subtask: number, what = 'user function'): WeirError {
  const where = cause instanceof Error ? userFrame(cause.stack) : undefined;
  const inner = (cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)) + (where ? ` (${where})` : '');
  return new WeirError(`${what} of operator '${operator}' (subtask ${subtask}) threw: ${inner}`, {
    code: ErrorCodes.USER_FUNCTION,
    domain: 'user',
    // What a restart cannot fix inside (a read-only output folder) it cannot fix outside either.
    retriable: !(cause instanceof WeirError && cause.retriable === false),
    operator,
    subtask,
    cause,
  });
}

/** Raised for a job graph that cannot run (bad parallelism, forward edge across parallelisms, ...). */
export function graphError(message: string, operator?: string): WeirError {
  return new WeirError(message, { code: ErrorCodes.GRAPH_INVALID, domain: 'user', retriable: false, operator });
}

/** Raised for a configuration value out of range. */
export function configError(message: string): WeirError {
  return new WeirError(message, { code: ErrorCodes.CONFIG, domain: 'user', retriable: false });
}

/** Whether the supervisor must fail the job at once instead of restarting it: the error says a restart cannot help. */
export function isNonRetriable(error: unknown): boolean {
  return error instanceof WeirError && error.retriable === false;
}

/** An error as plain data, safe to post between threads. */
export interface EncodedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  domain?: ErrorDomain;
  retriable?: boolean;
  operator?: string;
  subtask?: number;
  edge?: string;
  cause?: EncodedError;
}

/** Turns any thrown value into plain data (keeping a chain of causes, at most a few deep). */
export function encodeError(error: unknown, depth = 0): EncodedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const encoded: EncodedError = { name: error.name, message: error.message, stack: error.stack };
  const fields = error as Partial<WeirError> & { code?: unknown };
  if (typeof fields.code === 'string') encoded.code = fields.code;
  if (error instanceof WeirError) {
    encoded.domain = error.domain;
    if (error.retriable !== undefined) encoded.retriable = error.retriable;
    if (error.operator !== undefined) encoded.operator = error.operator;
    if (error.subtask !== undefined) encoded.subtask = error.subtask;
    if (error.edge !== undefined) encoded.edge = error.edge;
  }
  if (error.cause !== undefined && depth < 4) encoded.cause = encodeError(error.cause, depth + 1);
  return encoded;
}

/** Rebuilds an error from {@link encodeError}'s data: a {@link WeirError} when it carried a weir code. */
export function decodeError(data: EncodedError): Error {
  const cause = data.cause ? decodeError(data.cause) : undefined;
  let error: Error;
  if (data.code && data.code.startsWith('WEIR_') && data.domain) {
    error = new WeirError(data.message, {
      code: data.code as ErrorCode,
      domain: data.domain,
      retriable: data.retriable,
      operator: data.operator,
      subtask: data.subtask,
      edge: data.edge,
      cause,
    });
  } else {
    error = new Error(data.message, cause === undefined ? undefined : { cause });
    if (data.code) (error as Error & { code: string }).code = data.code;
  }
  error.name = data.name;
  if (data.stack) error.stack = data.stack;
  return error;
}
