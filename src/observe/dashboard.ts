//! The web dashboard as a fastify plugin: the static page of src/observe/dashboard/ (plain HTML, CSS and ES modules, no front-end build) and uPlot from its package, on the REST server's origin.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The page's files: beside this module in the source tree (src/observe/dashboard/) and in the package (dist/observe/dashboard/, copied by the build). */
const PAGE_DIR = fileURLToPath(new URL('./dashboard/', import.meta.url));

/** uPlot's browser build and stylesheet, resolved the way Node resolves the package (so an installed weir finds its own dependency). */
function uplotDist(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
}

/**
 * Serves the dashboard on `app`: `GET /` (the page), `/dashboard/*` (its scripts and styles),
 * `/vendor/uplot.js` and `/vendor/uplot.css`. The page reads the REST API of the same server
 * (`/jobs/...`), so register it on the server that answers those routes.
 */
export async function registerDashboard(app: FastifyInstance): Promise<void> {
  const vendor = uplotDist();
  // An encapsulated scope: the static plugin's reply decorators stay out of the caller's instance.
  await app.register(async (scope) => {
    await scope.register(fastifyStatic, { root: PAGE_DIR, prefix: '/dashboard/', index: false, maxAge: 0 });
    scope.get('/', (_request, reply) => reply.sendFile('index.html'));
    scope.get('/vendor/uplot.js', (_request, reply) => reply.sendFile('uPlot.iife.min.js', vendor));
    scope.get('/vendor/uplot.css', (_request, reply) => reply.sendFile('uPlot.min.css', vendor));
  });
}
