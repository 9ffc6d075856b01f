// The dashboard in a real browser (Debian's chromium driven by playwright-core) on a running job: the graph and the rates it shows are the REST API's, the operator before a slow sink shows as backpressured, and a savepoint taken with the button appears in the checkpoint history. Keeps a screenshot in test-results/.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJob, startObserver, type JobClient, type Observer } from '../../src/index.ts';

const CHROMIUM = process.env.WEIR_CHROMIUM ?? '/usr/bin/chromium';
const JOB = 'test/observe/dashboard-job.ts';
/** The observer's sampling interval, and how often the page polls the REST API. */
const INTERVAL_MS = 500;
const PAGE_POLL_MS = 1000;
/** A value the page shows is one the REST API gave within one page poll and one sampling interval (plus the time of the requests). */
const RECENT_MS = PAGE_POLL_MS + INTERVAL_MS + 500;
const SCREENSHOT = resolve('test-results/dashboard.png');

interface PlanNode {
  id: number | string;
  description: string;
  parallelism: number;
  operators: string[];
  inputs?: { id: number | string; ship_strategy: string }[];
}
interface VertexDetail {
  id: number | string;
  subtasks: { subtask: number; metrics: Record<string, number> }[];
}

let client: JobClient;
let observer: Observer;
let browser: Browser;
let page: Page;
let savepointRoot: string;
let jid: string;
const pageErrors: string[] = [];

async function rest<T>(path: string): Promise<T> {
  const response = await fetch(new URL(path, observer.url));
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

/** The vertex's records in and out per second from `/jobs/:id/vertices/:vid` (the sum over its subtasks of Flink's `read-records-per-second`, `write-records-per-second`). */
async function vertexRates(vid: number | string): Promise<{ in: number; out: number }> {
  const v = await rest<VertexDetail>(`/jobs/${jid}/vertices/${vid}`);
  const sum = (name: string) => v.subtasks.reduce((s, t) => s + Number(t.metrics[name]), 0);
  return { in: sum('read-records-per-second'), out: sum('write-records-per-second') };
}

/**
 * Reads the REST API every 100 ms for RECENT_MS, then what the page shows: the page's value must be one
 * the REST API gave in that time (the page polls every second, the registry samples every 500 ms).
 */
async function expectPageShowsRecent<T>(
  fromRest: () => Promise<T>,
  onPage: () => Promise<T>,
  same: (page: T, rest: T) => boolean,
  what: string,
) {
  const seen: T[] = [];
  let done = false;
  const poller = (async () => {
    while (!done) {
      seen.push(await fromRest());
      await sleep(100);
    }
  })();
  await sleep(RECENT_MS);
  const shown = await onPage();
  await sleep(150);
  done = true;
  await poller;
  expect(
    seen.some((value) => same(shown, value)),
    `${what}: the page shows ${JSON.stringify(shown)}, the REST API gave ${JSON.stringify(seen)}`,
  ).toBe(true);
}

const pageNumber = async (testId: string) => Number(await page.getByTestId(testId).getAttribute('data-value'));
/** Several of the page's numbers read in one step of the page's event loop: the page updates a row's cells together, so values read this way come from the same poll (read one by one, a poll can land between them). */
const pageNumbers = (...testIds: string[]) =>
  page.evaluate(
    (ids) => ids.map((id) => Number(document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-value'))),
    testIds,
  );

// Checked while the file loads, so that a missing browser fails the file (CI counts it) rather than skipping its tests.
if (!existsSync(CHROMIUM)) {
  throw new Error(
    `the dashboard's browser test needs Chromium at ${CHROMIUM}: install Debian's package with 'apt-get install chromium' (.ci/run does), or set WEIR_CHROMIUM to a Chromium binary`,
  );
}

beforeAll(async () => {
  savepointRoot = mkdtempSync(join(tmpdir(), 'weir-dashboard-'));
  client = await startJob(JOB, { parallelism: 2, savepointDir: savepointRoot });
  jid = client.id;
  observer = await startObserver({ port: 0, savepointDir: savepointRoot, intervalMs: INTERVAL_MS });
  observer.addJob(client);
  browser = await chromium.launch({ executablePath: CHROMIUM });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(new URL('/', observer.url).href);
  // The page has drawn the job (its status comes from /jobs/:id).
  await page.getByTestId('status').filter({ hasText: 'RUNNING' }).waitFor({ timeout: 30_000 });
});

afterAll(async () => {
  await browser?.close();
  await client?.cancel().catch(() => undefined);
  await client?.result.catch(() => undefined);
  await observer?.close();
});

describe('the dashboard of a running job, in Chromium', () => {
  it('lists the job and draws its graph: a box per vertex with its chained operators and parallelism, each edge with its partitioning', async () => {
    await expect(page.getByTestId(`job-${jid}`)).toBeTruthy();
    expect(await page.getByTestId(`job-${jid}`).textContent()).toContain('RUNNING');
    const { plan } = await rest<{ plan: { nodes: PlanNode[] } }>(`/jobs/${jid}/plan`);
    expect(plan.nodes.length).toBeGreaterThanOrEqual(3);
    const svgBoxes = await page.locator('svg [data-testid^="vertex-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    expect(svgBoxes.filter((t) => /^vertex-[^-]+$/.test(t ?? '')).sort()).toEqual(plan.nodes.map((n) => `vertex-${n.id}`).sort());
    for (const node of plan.nodes) {
      const box = (await page.getByTestId(`vertex-${node.id}`).textContent()) ?? '';
      for (const operator of node.operators)
        expect(box, `vertex ${node.id}`).toContain(operator.length > 31 ? operator.slice(0, 20) : operator);
      expect(await page.getByTestId(`vertex-${node.id}-parallelism`).textContent()).toBe(`P=${node.parallelism}`);
      for (const input of node.inputs ?? []) {
        expect(await page.getByTestId(`edge-${input.id}-${node.id}`).textContent()).toBe(input.ship_strategy);
      }
    }
    // The job's shape: the source chain feeds the hourly window and the keyed sum by hash, the sum (parallelism 2) the slow sink (1).
    const names = plan.nodes.map((n) => n.operators.join(' -> '));
    expect(names.some((n) => n.includes('Readings'))).toBe(true);
    expect(plan.nodes.flatMap((n) => (n.inputs ?? []).map((i) => i.ship_strategy))).toContain('HASH');
  });

  it("shows each vertex's records in and out per second as /jobs/:id/vertices/:vid gives them, within one sampling interval", async () => {
    const { plan } = await rest<{ plan: { nodes: PlanNode[] } }>(`/jobs/${jid}/plan`);
    const source = plan.nodes.find((n) => !n.inputs?.length) as PlanNode;
    // Records flow: the source's out rate is positive before the comparison starts.
    await expect.poll(async () => (await vertexRates(source.id)).out, { timeout: 20_000 }).toBeGreaterThan(0);
    for (const node of plan.nodes) {
      await expectPageShowsRecent(
        () => vertexRates(node.id),
        () => pageNumbers(`vertex-${node.id}-in-rate`, `vertex-${node.id}-out-rate`).then(([i, o]) => ({ in: i, out: o })),
        (shown, given) => close(shown.in, given.in) && close(shown.out, given.out),
        `vertex ${node.id} (${node.description})`,
      );
    }
    // The page's numbers are live: the source's out rate shows records flowing (a sample can read 0 while the slow sink holds it back).
    await expect.poll(() => pageNumber(`vertex-${source.id}-out-rate`), { timeout: 20_000 }).toBeGreaterThan(0);
    // The live chart is drawn (uPlot's canvas).
    expect(await page.getByTestId(`vertex-${source.id}-chart`).locator('canvas').count()).toBe(1);
  });

  it('shows the operator feeding the slow sink as backpressured, with the level of /backpressure', async () => {
    const { plan } = await rest<{ plan: { nodes: PlanNode[] } }>(`/jobs/${jid}/plan`);
    const sink = plan.nodes.find((n) => n.operators.includes('Slow Sink')) as PlanNode;
    expect(sink.inputs).toHaveLength(1);
    const feeder = sink.inputs![0].id;
    const level = async (vid: number | string) =>
      (await rest<{ backpressureLevel: string }>(`/jobs/${jid}/vertices/${vid}/backpressure`)).backpressureLevel;
    await expect.poll(() => level(feeder), { timeout: 30_000 }).toBe('high');
    await expect.poll(() => page.getByTestId(`vertex-${feeder}-backpressure`).getAttribute('data-level'), { timeout: 10_000 }).toBe('high');
    expect(await page.getByTestId(`vertex-${feeder}`).getAttribute('class')).toContain('level-high');
    // The slow sink itself is busy, not backpressured: the page agrees with the API about it too.
    await expectPageShowsRecent(
      () => level(sink.id),
      async () => (await page.getByTestId(`vertex-${sink.id}-backpressure`).getAttribute('data-level')) as string,
      (shown, given) => shown === given,
      'the slow sink',
    );
  });

  it('takes a savepoint with the button and shows it in the checkpoint history', async () => {
    await page.getByTestId('savepoint-button').click();
    await expect.poll(() => page.getByTestId('savepoint-result').getAttribute('data-location'), { timeout: 45_000 }).toBeTruthy();
    const location = (await page.getByTestId('savepoint-result').getAttribute('data-location')) as string;
    expect(location.startsWith(savepointRoot)).toBe(true);

    type History = { history: { id: number; is_savepoint: boolean; status: string; external_path?: string }[] };
    // The history comes from the registry's samples (every INTERVAL_MS): the entry shows up within one.
    const find = async () =>
      (await rest<History>(`/jobs/${jid}/checkpoints`)).history.find((c) => c.is_savepoint && c.external_path === location);
    await expect.poll(find, { timeout: 10_000 }).toBeDefined();
    const entry = await find();
    expect(entry?.status).toBe('COMPLETED');
    const row = page.getByTestId(`checkpoint-row-${entry!.id}`);
    await expect.poll(() => row.getAttribute('data-kind'), { timeout: 10_000 }).toBe('savepoint');
    // the page may still show the poll from before the savepoint completed: it catches up within one
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).toBe('COMPLETED');
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain(location);

    // The watermark explanation panel shows the API's lines.
    await expectPageShowsRecent(
      async () => (await rest<{ lines: string[] }>(`/jobs/${jid}/watermark-explain`)).lines.join('\n'),
      async () => (await page.getByTestId('explain').textContent()) as string,
      (shown, given) => shown === given || (given === '' && shown === 'Nothing waits on a watermark.'),
      'the watermark explanation',
    );

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('stops the job with a savepoint from the button: the page shows the path and the job FINISHED', async () => {
    await page.getByTestId('stop-button').click();
    await expect.poll(() => page.getByTestId('savepoint-result').getAttribute('data-location'), { timeout: 45_000 }).toMatch(/savepoint-/);
    const location = (await page.getByTestId('savepoint-result').getAttribute('data-location')) as string;
    const result = await client.result;
    expect(result.savepoint?.path).toBe(location);
    await page.getByTestId('status').filter({ hasText: 'FINISHED' }).waitFor({ timeout: 10_000 });
    // The job list comes from /jobs/overview, read at the start of each poll: it follows by the next one.
    await page.getByTestId(`job-${jid}`).filter({ hasText: 'FINISHED' }).waitFor({ timeout: 10_000 });
    expect(pageErrors).toEqual([]);
  });
});
