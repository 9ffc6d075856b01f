//! What a job module's default export is: something that builds the job graph for given options.

import type { JobOptions } from '../core/protocol.ts';
import type { JobGraph } from './job-graph.ts';

/** A job module's default export (made by `defineJob`). */
export interface JobDefinition {
  /** Marks the object as a weir job. */
  readonly kind: 'weir.job';
  /** Which copy of weir made it (the URL of this module in that copy); see {@link RUNTIME_COPY}. */
  readonly runtime?: string;
  /** Builds the job graph; the coordinator and every worker call this with the same options. */
  buildJobGraph(options: JobOptions): Promise<JobGraph>;
}

/** Whether a value is a {@link JobDefinition}. */
export function isJobDefinition(value: unknown): value is JobDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'weir.job' &&
    typeof (value as { buildJobGraph?: unknown }).buildJobGraph === 'function'
  );
}

/**
 * Identifies this copy of the runtime. A job made by another copy (the CLI from one install, the
 * job's `import` from another) cannot run here: its operators' classes are not this copy's.
 */
export const RUNTIME_COPY: string = import.meta.url;
