// A grouped bar chart of the Nexmark results (events/s per query per system) as a hand-written SVG.

/** The fields of a bench/results/nexmark.json result the chart reads. */
export interface ChartRecord {
  query: string;
  mode: string;
  eventsPerSecond: number;
  matchesLoop: boolean | null;
}

const COLORS: Record<string, string> = {
  loop: '#7f7f7f',
  rxjs: '#b7287f',
  'weir-1': '#1f77b4',
  'weir-2': '#6baed6',
  'flink-1': '#e6550d',
  'flink-2': '#fdae6b',
  'weir-sql-1': '#1f77b4',
  'weir-sql-2': '#6baed6',
  'flink-sql-1': '#e6550d',
  'flink-sql-2': '#fdae6b',
};
const LABELS: Record<string, string> = {
  loop: 'hand-written loop',
  rxjs: 'RxJS pipeline',
  'weir-1': 'weir threads p=1',
  'weir-2': 'weir threads p=2',
  'flink-1': 'Flink p=1',
  'flink-2': 'Flink p=2',
  'weir-sql-1': 'weir SQL p=1',
  'weir-sql-2': 'weir SQL p=2',
  'flink-sql-1': 'Flink SQL p=1',
  'flink-sql-2': 'Flink SQL p=2',
};

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Short rate label: 1.2M, 340k, 950. */
function short(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k`;
  return String(Math.round(n));
}

/** A round axis maximum at or above `max`, and its tick step. */
function axis(max: number): { top: number; step: number } {
  const raw = Math.max(max, 1) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) as number;
  return { top: Math.ceil(max / step) * step || step, step };
}

/** The chart: one group per query, one bar per system (in the order first seen), events/s on a linear axis. */
export function nexmarkSvg(
  records: readonly ChartRecord[],
  subtitle: string,
  title = 'Nexmark throughput (events/s, higher is better)',
): string {
  const queries = [...new Set(records.map((r) => r.query))];
  const modes = [...new Set(records.map((r) => r.mode))];
  const bar = 14;
  const gap = 18;
  const groupWidth = modes.length * bar + gap;
  const left = 70;
  const top = 56;
  const height = 300;
  const legendWidth = 170;
  const width = Math.max(left + queries.length * groupWidth + 20 + legendWidth, 520);
  const { top: yMax, step } = axis(Math.max(...records.map((r) => r.eventsPerSecond)));
  const y = (v: number) => top + height - (v / yMax) * height;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + height + 50}" viewBox="0 0 ${width} ${top + height + 50}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="${left}" y="38" fill="#555">${escape(subtitle)}</text>`,
  );
  for (let v = 0; v <= yMax + step / 2; v += step) {
    out.push(
      `<line x1="${left}" x2="${left + queries.length * groupWidth}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${short(v)}</text>`,
    );
  }
  queries.forEach((q, qi) => {
    const x0 = left + qi * groupWidth + gap / 2;
    modes.forEach((m, mi) => {
      const r = records.find((x) => x.query === q && x.mode === m);
      if (r === undefined) return;
      const x = x0 + mi * bar;
      const h = (r.eventsPerSecond / yMax) * height;
      const note = r.matchesLoop === false ? ' (MISMATCH)' : r.matchesLoop === null && m !== 'loop' ? ' (unchecked)' : '';
      out.push(
        `<rect x="${x}" y="${y(r.eventsPerSecond)}" width="${bar - 2}" height="${h}" fill="${COLORS[m] ?? '#999'}"${r.matchesLoop === false ? ' stroke="red" stroke-width="2"' : ''}><title>${escape(`${q} ${LABELS[m] ?? m}: ${Math.round(r.eventsPerSecond).toLocaleString('en-US')} events/s${note}`)}</title></rect>`,
      );
    });
    out.push(`<text x="${x0 + (modes.length * bar) / 2}" y="${top + height + 16}" text-anchor="middle">${escape(q)}</text>`);
  });
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + height}" stroke="#333"/>`);
  out.push(`<line x1="${left}" x2="${left + queries.length * groupWidth}" y1="${top + height}" y2="${top + height}" stroke="#333"/>`);
  const lx = left + queries.length * groupWidth + 20;
  modes.forEach((m, i) => {
    out.push(
      `<rect x="${lx}" y="${top + i * 18}" width="12" height="12" fill="${COLORS[m] ?? '#999'}"/>`,
      `<text x="${lx + 18}" y="${top + i * 18 + 10}">${escape(LABELS[m] ?? m)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
