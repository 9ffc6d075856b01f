//! The mutating REST routes: trigger a savepoint, stop with a savepoint, and poll either; targets stay inside the allowed directory.

import { randomBytes } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { MetricsRegistry, ObservedJob } from './registry.ts';
import { sendError } from './rest-jobs.ts';

/** `child` is `root` or inside it (both absolute and normalised). */
function inside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The real path of `path`'s deepest existing ancestor, with the rest appended (the rest does not exist, so has no links). */
async function realpathOfExisting(path: string): Promise<string> {
  let head = path;
  const rest: string[] = [];
  for (;;) {
    try {
      return join(await realpath(head), ...rest.reverse());
    } catch {
      const up = dirname(head);
      if (up === head) return path;
      rest.push(head.slice(up.length).replace(/^[/\\]+/, ''));
      head = up;
    }
  }
}

/** Where a savepoint may go, or why not. */
export type TargetCheck = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Resolves a requested savepoint directory against the allowed `root`: refused unless it is
 * `root` or inside it after resolving `..` and the symbolic links of its existing parents, and
 * refused when percent-encoded (Flink's CVE-2020-17519 escaped through an encoded `..`).
 */
export async function resolveSavepointTarget(root: string, given: string): Promise<TargetCheck> {
  if (given.includes('\0')) return { ok: false, reason: 'target directory contains a NUL character' };
  if (/%[0-9a-fA-F]{2}/.test(given)) return { ok: false, reason: `target directory '${given}' is percent-encoded; send the plain path` };
  const base = resolve(root);
  const target = resolve(base, given);
  const refused = (): TargetCheck => ({
    ok: false,
    reason: `target directory '${given}' is outside the allowed savepoint directory ${base}`,
  });
  if (!inside(base, target)) return refused();
  const [realBase, realTarget] = await Promise.all([realpathOfExisting(base), realpathOfExisting(target)]);
  if (!inside(realBase, realTarget)) return refused();
  return { ok: true, path: target };
}

/** One savepoint request and how it ended. */
interface Operation {
  jobId: string;
  status: 'IN_PROGRESS' | 'COMPLETED';
  location?: string | null;
  failure?: string;
}

/** Requests kept for polling (the oldest are forgotten past this). */
const MAX_OPERATIONS = 1000;

const savepointBody = {
  type: 'object',
  properties: {
    'target-directory': { type: 'string', minLength: 1, maxLength: 4096 },
    'cancel-job': { type: 'boolean' },
    formatType: { type: 'string', enum: ['CANONICAL', 'DEFAULT'] },
  },
  additionalProperties: false,
} as const;

const stopBody = {
  type: 'object',
  properties: {
    targetDirectory: { type: 'string', minLength: 1, maxLength: 4096 },
    drain: { type: 'boolean', const: false },
    formatType: { type: 'string', enum: ['CANONICAL', 'DEFAULT'] },
  },
  additionalProperties: false,
} as const;

const jobParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
  required: ['id'],
} as const;
const operationParams = {
  type: 'object',
  properties: { id: jobParams.properties.id, rid: { type: 'string', pattern: '^[0-9a-f]{32}$' } },
  required: ['id', 'rid'],
} as const;

/** Options of the savepoint routes. */
export interface SavepointRouteOptions {
  registry: MetricsRegistry;
  /** The root requested targets must stay inside; default: the job's checkpoint directory (of `checkpointPath`). */
  savepointDir?: string;
}

/** The allowed root for a job's savepoints, if any. */
function rootFor(job: ObservedJob, configured: string | undefined): string | undefined {
  if (configured !== undefined) return configured;
  // checkpointPath is `<checkpointDir>/<job name>/run-…`; the job's own savepoints go to `<checkpointDir>/savepoints`.
  return job.checkpointPath !== undefined ? dirname(dirname(job.checkpointPath)) : undefined;
}

/** Registers POST /jobs/:id/savepoints, POST /jobs/:id/stop and GET /jobs/:id/savepoints/:rid. */
export async function registerSavepointRoutes(app: FastifyInstance, options: SavepointRouteOptions): Promise<void> {
  const { registry } = options;
  const operations = new Map<string, Operation>();

  const start = async (id: string, given: string | undefined, stop: boolean, reply: import('fastify').FastifyReply): Promise<unknown> => {
    const job = registry.job(id);
    if (!job) return sendError(reply, 404, `job ${id} not found`);
    if (job.graph.config.checkpointing === undefined)
      return sendError(reply, 409, `job ${id} has no checkpointing: enable it to take savepoints`);
    let dir: string | undefined;
    if (given !== undefined) {
      const root = rootFor(job, options.savepointDir);
      if (root === undefined)
        return sendError(
          reply,
          400,
          'no savepoint directory is allowed: start the observer with savepointDir (or the job with checkpointDir) to give a target directory',
        );
      const checked = await resolveSavepointTarget(root, given);
      if (!checked.ok) return sendError(reply, 400, checked.reason);
      dir = checked.path;
    }
    const rid = randomBytes(16).toString('hex');
    const op: Operation = { jobId: id, status: 'IN_PROGRESS' };
    operations.set(rid, op);
    if (operations.size > MAX_OPERATIONS) operations.delete(operations.keys().next().value as string);
    const run = stop ? job.stopWithSavepoint(dir) : job.triggerSavepoint(dir);
    run.then(
      (done) => {
        op.status = 'COMPLETED';
        op.location = done.path ?? null;
      },
      (error: unknown) => {
        op.status = 'COMPLETED';
        op.failure = error instanceof Error ? error.message : String(error);
      },
    );
    return reply.code(202).send({ 'request-id': rid });
  };

  app.post<{ Params: { id: string }; Body: { 'target-directory'?: string; 'cancel-job'?: boolean } | undefined }>(
    '/jobs/:id/savepoints',
    { schema: { params: jobParams, body: savepointBody } },
    async (request, reply) => start(request.params.id, request.body?.['target-directory'], request.body?.['cancel-job'] === true, reply),
  );

  app.post<{ Params: { id: string }; Body: { targetDirectory?: string } | undefined }>(
    '/jobs/:id/stop',
    { schema: { params: jobParams, body: stopBody } },
    async (request, reply) => start(request.params.id, request.body?.targetDirectory, true, reply),
  );

  app.get<{ Params: { id: string; rid: string } }>(
    '/jobs/:id/savepoints/:rid',
    { schema: { params: operationParams } },
    async (request, reply) => {
      const { id, rid } = request.params;
      if (!registry.job(id)) return sendError(reply, 404, `job ${id} not found`);
      const op = operations.get(rid);
      if (!op || op.jobId !== id) return sendError(reply, 404, `savepoint request ${rid} not found for job ${id}`);
      if (op.status === 'IN_PROGRESS') return { status: { id: 'IN_PROGRESS' } };
      if (op.failure !== undefined)
        return { status: { id: 'COMPLETED' }, operation: { 'failure-cause': { class: 'WeirError', 'stack-trace': op.failure } } };
      return { status: { id: 'COMPLETED' }, operation: { location: op.location ?? null } };
    },
  );
}
