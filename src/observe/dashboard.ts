//! The dashboard plugin (a placeholder page; helper dash's branch replaces this file with the real one).

import type { FastifyInstance } from 'fastify';

/** Serves the dashboard at `GET /`. */
export async function registerDashboard(app: FastifyInstance): Promise<void> {
  app.get('/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send('<!doctype html><title>weir</title><p>weir: the dashboard is not built in; see <a href="/jobs">/jobs</a>.</p>'),
  );
}
