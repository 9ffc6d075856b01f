//! The observer: one fastify server with the REST API, Prometheus `/metrics` and the dashboard, over a metrics registry.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { registerDashboard } from './dashboard.ts';
import { createPrometheusExporter } from './prometheus.ts';
import { MetricsRegistry, type ObservedJob } from './registry.ts';
import { registerJobRoutes, sendError } from './rest-jobs.ts';
import { registerSavepointRoutes } from './rest-savepoints.ts';

/** How to start an observer. */
export interface ObserverOptions {
  /** TCP port; 0 (default) = any free port. */
  port?: number;
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** Bearer token for mutating calls; default: a random 32-hex one when `host` is not loopback, none on loopback. */
  token?: string;
  /** Root that POSTed savepoint targets must stay inside (default: the job's checkpoint directory, else targets are refused). */
  savepointDir?: string;
  /** Sampling interval in ms (default 1000). */
  intervalMs?: number;
}

/** A running observer. */
export interface Observer {
  /** `http://host:port` (IPv6 hosts in brackets). */
  url: string;
  /** The token mutating calls need (`Authorization: Bearer <token>`), if any. */
  token?: string;
  registry: MetricsRegistry;
  /** Observes a job (samples it every `intervalMs`). */
  addJob(client: ObservedJob): void;
  /** Stops sampling and closes the server. */
  close(): Promise<void>;
}

/** Whether `host` only reaches this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** The host name of a Host header (`127.0.0.1:8081`, `[::1]:80`, `localhost`). */
function hostnameOf(host: string): string {
  const m = /^\[([^\]]*)\](?::\d+)?$/.exec(host);
  return m ? m[1] : host.replace(/:\d+$/, '');
}

/** Whether an Origin header names the same host (and port) the request was sent to. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** Constant-time comparison of a presented token with the expected one (hashes first, so lengths do not leak). */
function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A validation error as one message per bad field: `body field 'target-directory' must be string`. */
function validationMessages(error: FastifyError): string[] {
  const where = error.validationContext ?? 'request';
  return (error.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    if (v.keyword === 'additionalProperties') return `${where} has unknown field '${String(params.additionalProperty)}'`;
    if (v.keyword === 'required') return `${where} misses field '${String(params.missingProperty)}'`;
    const field = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    return field ? `${where} field '${field}' ${v.message ?? 'is invalid'}` : `${where} ${v.message ?? 'is invalid'}`;
  });
}

/** Builds the fastify app (not listening): routes, auth and error shapes. */
export async function buildObserverApp(
  registry: MetricsRegistry,
  options: { token?: string; savepointDir?: string; loopbackOnly?: boolean },
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    // Reject rather than strip unknown fields, and never coerce a body's types.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  const { token } = options;

  app.addHook('onRequest', async (request, reply) => {
    // On loopback without a token, a web page could still reach the server through DNS rebinding
    // (a foreign name resolving to 127.0.0.1) or a cross-site POST: answer only loopback names,
    // and mutate only for requests from the server's own origin.
    if (options.loopbackOnly && !isLoopback(hostnameOf(request.headers.host ?? ''))) {
      return sendError(reply, 403, `host '${request.headers.host ?? ''}' is not allowed: the observer answers loopback names only`);
    }
    const origin = request.headers.origin;
    if (origin !== undefined && request.method !== 'GET' && request.method !== 'HEAD' && !sameOrigin(origin, request.headers.host)) {
      return sendError(reply, 403, `cross-origin request from ${origin} refused`);
    }
    if (token === undefined || request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    const header = request.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m || !tokenMatches(m[1], token)) {
      reply.header('www-authenticate', 'Bearer');
      return sendError(reply, 401, 'missing or wrong token: send Authorization: Bearer <token>');
    }
  });
  // A POST without a body (Flink's clients send none for defaults) is an empty object.
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && (request.body === undefined || request.body === null)) request.body = {};
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.validation) return sendError(reply, 400, validationMessages(error).join('; '));
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    return sendError(reply, status, status === 500 ? `internal error: ${error.message}` : error.message);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, `not found: ${request.method} ${request.url.split('?')[0]}`));

  const prometheus = createPrometheusExporter(registry);
  app.get('/metrics', async (_request, reply) => reply.type(prometheus.registry.contentType).send(await prometheus.scrape()));
  await registerJobRoutes(app, { registry });
  await registerSavepointRoutes(app, { registry, savepointDir: options.savepointDir });
  await registerDashboard(app);
  return app;
}

/** Starts the REST API, Prometheus `/metrics` and the dashboard on one port. */
export async function startObserver(options: ObserverOptions = {}): Promise<Observer> {
  const host = options.host ?? '127.0.0.1';
  if (options.token !== undefined && !/^[\x21-\x7e]{8,256}$/.test(options.token))
    throw new Error('the observer token must be 8 to 256 printable characters without spaces');
  const token = options.token ?? (isLoopback(host) ? undefined : randomBytes(16).toString('hex'));
  const registry = new MetricsRegistry({ intervalMs: options.intervalMs });
  const app = await buildObserverApp(registry, { token, savepointDir: options.savepointDir, loopbackOnly: isLoopback(host) });
  try {
    await app.listen({ port: options.port ?? 0, host });
  } catch (error) {
    registry.close();
    await app.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    token,
    registry,
    addJob: (client) => registry.addJob(client),
    close: async () => {
      registry.close();
      await app.close();
    },
  };
}
