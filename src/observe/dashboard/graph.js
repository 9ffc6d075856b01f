// The job graph as SVG: one box per vertex (its chained operators, parallelism, live rates and backpressure), edges labelled with their partitioning.
import { rate, s } from './dom.js';

const WIDTH = 250;
const COLUMN = 320;
const LINE = 15;
const GAP = 28;

/**
 * Draws `plan` (`{ nodes: [{ id, description, parallelism, operators?, inputs? }] }`) and returns the SVG and an
 * `update(vertexId, { inRate, outRate, level })` that refreshes a box without redrawing.
 */
export function renderGraph(plan) {
  const nodes = plan.nodes ?? [];
  const byId = new Map(nodes.map((n) => [String(n.id), n]));
  // Column = longest path from a source, so every edge points right.
  const depth = new Map();
  const depthOf = (node, seen = new Set()) => {
    const id = String(node.id);
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    let d = 0;
    for (const input of node.inputs ?? []) {
      const from = byId.get(String(input.id));
      if (from) d = Math.max(d, depthOf(from, seen) + 1);
    }
    depth.set(id, d);
    return d;
  };
  nodes.forEach((n) => depthOf(n));

  const boxes = new Map();
  const columnsY = [];
  for (const node of nodes) {
    const id = String(node.id);
    const col = depth.get(id);
    const title = String(node.name ?? node.description ?? `vertex ${id}`);
    // A single operator named like its vertex is not listed twice.
    const chained = operatorsOf(node);
    const operators = chained.length === 1 && chained[0] === title ? [] : chained;
    const height = 22 + LINE * (operators.length + 2) + 8;
    const y = columnsY[col] ?? 10;
    columnsY[col] = y + height + GAP;
    boxes.set(id, { x: 10 + col * COLUMN, y, height, node, operators, title });
  }
  const width = 20 + (Math.max(0, ...depth.values()) + 1) * COLUMN - (COLUMN - WIDTH);
  const height = Math.max(60, ...columnsY.map((y) => y - GAP + 10));
  const svg = s('svg', {
    class: 'graph',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': 'job graph',
    'data-testid': 'graph',
  });

  for (const box of boxes.values()) {
    for (const input of box.node.inputs ?? []) {
      const from = boxes.get(String(input.id));
      if (!from) continue;
      const x1 = from.x + WIDTH;
      const y1 = from.y + from.height / 2;
      const x2 = box.x;
      const y2 = box.y + box.height / 2;
      const mid = (x1 + x2) / 2;
      svg.append(
        s('path', { class: 'edge', d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 6},${y2}`, 'marker-end': 'url(#arrow)' }),
        s(
          'text',
          { class: 'edge-label', x: mid, y: (y1 + y2) / 2 - 5, 'text-anchor': 'middle', 'data-testid': `edge-${input.id}-${box.node.id}` },
          input.ship_strategy ?? input.exchange ?? '',
        ),
      );
    }
  }
  svg.prepend(
    s(
      'defs',
      {},
      s(
        'marker',
        { id: 'arrow', viewBox: '0 0 10 10', refX: 4, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
        s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#8a93a6' }),
      ),
    ),
  );

  const live = new Map();
  for (const [id, box] of boxes) {
    const rates = s('text', { x: 8, y: 22 + LINE * (box.operators.length + 1) }, '');
    const g = s(
      'g',
      { class: 'node', transform: `translate(${box.x},${box.y})`, 'data-testid': `vertex-${id}` },
      s('rect', { width: WIDTH, height: box.height, rx: 5 }),
      s('text', { class: 'title', x: 8, y: 18 }, clip(box.title, 25)),
      s('text', { x: WIDTH - 8, y: 18, 'text-anchor': 'end', 'data-testid': `vertex-${id}-parallelism` }, `P=${box.node.parallelism}`),
      box.operators.map((op, i) => s('text', { class: 'op', x: 12, y: 22 + LINE * (i + 1) }, `${i === 0 ? '' : '→ '}${clip(op, 32)}`)),
      rates,
      s('title', {}, [box.title, ...box.operators].join('\n')),
    );
    svg.append(g);
    live.set(id, { g, rates });
  }

  const update = (id, { inRate, outRate, level }) => {
    const box = live.get(String(id));
    if (!box) return;
    const text = `in ${rate(inRate)} · out ${rate(outRate)}`;
    if (box.rates.textContent !== text) box.rates.textContent = text;
    const cls = `node level-${level ?? 'unknown'}`;
    if (box.g.getAttribute('class') !== cls) box.g.setAttribute('class', cls);
  };
  return { svg, update };
}

/** The chained operators of a plan node: `operators` when the server lists them, else its description split on Flink's chain arrows. */
function operatorsOf(node) {
  if (Array.isArray(node.operators) && node.operators.length) return node.operators.map(String);
  const text = String(node.description ?? node.operator ?? '');
  return text
    .split(/\s*(?:->|→|<br\/?>)\s*/)
    .map((t) => t.trim())
    .filter(Boolean);
}

const clip = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);
