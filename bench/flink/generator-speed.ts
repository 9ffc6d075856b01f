//! Pure Nexmark generation speed, weir's TypeScript generator next to its Java port (the Flink side's source), on one thread each.
//   npx tsx bench/flink/generator-speed.ts [events=2000000]
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { NexmarkGenerator } from '../../src/connectors/nexmark/index.ts';

const EVENTS = Number(process.argv[2] ?? 2_000_000);
const JAVA_GENERATOR = join(import.meta.dirname, 'src', 'main', 'java', 'dev', 'weir', 'bench', 'flink', 'NexmarkGenerator.java');

/** Best of three passes over events 0..n-1; the sink keeps V8 from dropping the work. */
function measureTs(n: number): { eventsPerSecond: number; bytes: number } {
  const gen = new NexmarkGenerator();
  let best = Infinity;
  let bytes = 0;
  for (let rep = 0; rep < 3; rep++) {
    let sink = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const e = gen.event(i);
      sink += e.dateTime + e.extra.length;
    }
    best = Math.min(best, performance.now() - t0);
    bytes = sink;
  }
  return { eventsPerSecond: n / (best / 1000), bytes };
}

function measureJava(n: number): number | undefined {
  const run = spawnSync('java', [JAVA_GENERATOR, '--speed', String(n)], { encoding: 'utf8' });
  if (run.status !== 0) return undefined;
  const lines = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { eventsPerSecond: number });
  return Math.max(...lines.map((l) => l.eventsPerSecond));
}

const ts = measureTs(EVENTS);
const java = measureJava(EVENTS);
const fmt = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v / 1e6).toFixed(2)} M events/s`);
console.log(
  `Nexmark generation, ${EVENTS.toLocaleString('en')} events, best of 3 — Node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}`,
);
console.log(`  weir (TypeScript)      ${fmt(ts.eventsPerSecond)}`);
console.log(`  Java port (JDK Random) ${fmt(java)}`);
console.log(
  JSON.stringify({ events: EVENTS, tsEventsPerSecond: Math.round(ts.eventsPerSecond), javaEventsPerSecond: java && Math.round(java) }),
);
