//! The control channel of a job started by `weir run`: a unix socket per job, listed in a per-user registry folder, for `weir savepoint`, `weir stop`, `weir explain` and `weir list`.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { userRuntimeDir } from '../core/typescript-loader.mjs';
import type { JobClient, LiveStateValue } from '../scheduler/execute.ts';

/**
 * Where running jobs register: `$WEIR_JOBS_DIR`, else `jobs/` in the user's runtime folder
 * (`$XDG_RUNTIME_DIR/weir`, or `<tmp>/weir-<uid>`), readable by that user only.
 */
export function registryDir(): string {
  return process.env.WEIR_JOBS_DIR ?? join(userRuntimeDir(), 'jobs');
}

/** A running job as the registry lists it. */
export interface RegisteredJob {
  id: string;
  name: string;
  pid: number;
  socket: string;
  startedAt: string;
  /** The job's dashboard and REST API, when it serves one (`--rest-port`). */
  dashboard?: string;
}

/** A request on the control socket. */
type ControlRequest =
  | { cmd: 'savepoint' | 'stop'; dir?: string }
  | { cmd: 'explain' }
  /** A live state query (`weir state get --job`): the key as JSON data. */
  | { cmd: 'state'; uid: string; state: string; key: unknown };
/** Its answer. */
type ControlResponse =
  { ok: true; path?: string; id?: number; lines?: string[]; state?: LiveStateValue } | { ok: false; error: string; code?: string };

/** What a job's control socket can do beyond savepoints. */
export interface ControlExtras {
  /** The watermark explanation of the running job, as lines. */
  explain?(): Promise<string[]>;
  /** The address of the job's dashboard, listed by `weir list`. */
  dashboard?: string;
}

/** Serves a job's control socket and registers it; returns a function that unregisters. */
export function serveControl(id: string, name: string, client: JobClient, extras: ControlExtras = {}): () => void {
  const dir = registryDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socket = join(dir, `${id}.sock`);
  const entry: RegisteredJob = {
    id,
    name,
    pid: process.pid,
    socket,
    startedAt: new Date().toISOString(),
    ...(extras.dashboard ? { dashboard: extras.dashboard } : {}),
  };
  const server: Server = createServer((conn) => {
    let buffer = '';
    let handled = false;
    conn.on('data', (chunk) => {
      if (handled) return;
      buffer += chunk.toString('utf8');
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      handled = true;
      let request: ControlRequest;
      try {
        request = JSON.parse(buffer.slice(0, nl)) as ControlRequest;
      } catch {
        // A malformed request must not take the job down: answer it and go on.
        conn.end(`${JSON.stringify({ ok: false, error: 'unreadable control request' } satisfies ControlResponse)}\n`);
        return;
      }
      if (request.cmd === 'state') {
        client.queryState(request.uid, request.state, request.key).then(
          (state) => {
            let line: string;
            try {
              line = JSON.stringify({ ok: true, state } satisfies ControlResponse);
            } catch (error) {
              line = JSON.stringify({
                ok: false,
                error: `the value cannot be sent as JSON: ${(error as Error).message}`,
              } satisfies ControlResponse);
            }
            conn.end(`${line}\n`);
          },
          (error: Error & { code?: string }) =>
            conn.end(`${JSON.stringify({ ok: false, error: error.message, code: error.code } satisfies ControlResponse)}\n`),
        );
        return;
      }
      const act: Promise<ControlResponse> =
        request.cmd === 'explain'
          ? extras.explain
            ? extras.explain().then((lines) => ({ ok: true, lines }))
            : Promise.reject(new Error('this job cannot explain its watermarks'))
          : (request.cmd === 'stop' ? client.stopWithSavepoint(request.dir) : client.triggerSavepoint(request.dir)).then((s) => ({
              ok: true,
              path: s.path,
              id: s.id,
            }));
      act.then(
        (answer) => conn.end(`${JSON.stringify(answer)}\n`),
        (error: Error) => conn.end(`${JSON.stringify({ ok: false, error: error.message } satisfies ControlResponse)}\n`),
      );
    });
  });
  // The entry first: `weir list` removes a socket that has no entry.
  writeFileSync(join(dir, `${id}.json`), JSON.stringify(entry));
  server.listen(socket);
  server.unref();
  // The entry goes when the job ends, and when the process exits any other way it can notice;
  // after a kill -9, the next `weir list` removes it.
  const remove = (): void => {
    rmSync(join(dir, `${id}.json`), { force: true });
    rmSync(socket, { force: true });
  };
  process.once('exit', remove);
  return () => {
    server.close();
    remove();
    process.off('exit', remove);
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Jobs registered by live processes; entries and sockets of processes that died are removed. */
export function listJobs(): RegisteredJob[] {
  const dir = registryDir();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const jobs: RegisteredJob[] = [];
  const live = new Set<string>();
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      const job = JSON.parse(readFileSync(join(dir, name), 'utf8')) as RegisteredJob;
      if (alive(job.pid)) {
        jobs.push(job);
        live.add(`${job.id}.sock`);
      } else {
        rmSync(join(dir, name), { force: true });
        rmSync(job.socket, { force: true });
      }
    } catch {
      // a half-written entry: skip it
    }
  }
  // A socket whose entry is gone belongs to no live job.
  for (const name of names.filter((n) => n.endsWith('.sock') && !live.has(n))) {
    if (!names.includes(name.replace(/\.sock$/, '.json'))) rmSync(join(dir, name), { force: true });
  }
  return jobs.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** The running job an id names: the whole id or a prefix of one job's id (at least 4 characters). */
export function findJob(jobId: string): RegisteredJob | { error: string } {
  const jobs = listJobs();
  const exact = jobs.find((j) => j.id === jobId);
  if (exact) return exact;
  const matches = jobId.length >= 4 ? jobs.filter((j) => j.id.startsWith(jobId)) : [];
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) return { error: `job id ${jobId} is ambiguous: ${matches.map((j) => j.id).join(', ')}` };
  return { error: `no running job with id ${jobId} (see 'weir list')` };
}

/** Sends a control request to a running job (named by its id or a unique prefix) and waits for its answer. */
export function requestControl(jobId: string, request: ControlRequest, timeoutMs = 120_000): Promise<ControlResponse> {
  const job = findJob(jobId);
  if ('error' in job) return Promise.resolve({ ok: false, error: job.error });
  return new Promise((resolve) => {
    const conn = createConnection(job.socket);
    let answer = '';
    const timer = setTimeout(() => {
      conn.destroy();
      resolve({ ok: false, error: `job ${jobId} did not answer within ${timeoutMs} ms` });
    }, timeoutMs);
    conn.on('connect', () => conn.write(`${JSON.stringify(request)}\n`));
    conn.on('data', (chunk) => (answer += chunk.toString('utf8')));
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(answer) as ControlResponse);
      } catch {
        resolve({ ok: false, error: `job ${jobId} sent an unreadable answer` });
      }
    });
    conn.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `cannot reach job ${jobId}: ${error.message}` });
    });
  });
}
