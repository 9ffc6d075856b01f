// The dashboard plugin serves its page, the page's modules and uPlot (from the uplot package) with their content types, and nothing outside its folder.
import Fastify, { type FastifyInstance } from 'fastify';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDashboard } from '../../src/observe/dashboard.ts';

let app: FastifyInstance;
beforeAll(async () => {
  app = Fastify();
  await registerDashboard(app);
});
afterAll(() => app.close());

describe('registerDashboard', () => {
  it('serves the page at / and its scripts and styles under /dashboard/', async () => {
    const index = await app.inject('/');
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.body).toBe(readFileSync('src/observe/dashboard/index.html', 'utf8'));
    // Every file the page is made of, with the type a browser needs for an ES module or a stylesheet.
    for (const name of readdirSync('src/observe/dashboard').filter((n) => n !== 'index.html')) {
      const file = await app.inject(`/dashboard/${name}`);
      expect(file.statusCode, name).toBe(200);
      expect(file.headers['content-type'], name).toMatch(name.endsWith('.css') ? /^text\/css/ : /^(application|text)\/javascript/);
      expect(file.body).toBe(readFileSync(`src/observe/dashboard/${name}`, 'utf8'));
    }
  });

  it("serves uPlot's browser build and stylesheet from the uplot package", async () => {
    const require = createRequire(import.meta.url);
    const js = await app.inject('/vendor/uplot.js');
    expect(js.statusCode).toBe(200);
    expect(js.body).toBe(readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'));
    const css = await app.inject('/vendor/uplot.css');
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.body).toBe(readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'));
  });

  it('answers 404 for a missing file and for a path out of its folder', async () => {
    expect((await app.inject('/dashboard/missing.js')).statusCode).toBe(404);
    expect((await app.inject('/dashboard/../dashboard.ts')).statusCode).toBe(404);
    expect((await app.inject('/dashboard/%2e%2e/dashboard.ts')).statusCode).toBe(404);
  });
});
