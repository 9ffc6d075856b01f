//! `startObserver` for the package's entry: the HTTP server (fastify, prom-client, the dashboard) loads only when a job is observed, so a job module that imports the package does not load it into every worker thread.

import type { Observer, ObserverOptions } from './server.ts';

/** Starts the REST API, Prometheus `/metrics` and the dashboard (see `server.ts`); resolves once it listens. */
export async function startObserver(options: ObserverOptions = {}): Promise<Observer> {
  const server = await import('./server.ts');
  return server.startObserver(options);
}
