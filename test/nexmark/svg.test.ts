// The harness's hand-written SVG chart: one bar per result, one group label per query, a legend entry per system.
import { describe, expect, it } from 'vitest';
import { nexmarkSvg } from '../../bench/nexmark/svg.ts';

describe('Nexmark SVG chart', () => {
  it('draws a bar per result with its rate in the tooltip', () => {
    const records = [
      { query: 'q0', mode: 'loop', eventsPerSecond: 800_000, matchesLoop: true },
      { query: 'q0', mode: 'rxjs', eventsPerSecond: 600_000, matchesLoop: true },
      { query: 'q0', mode: 'weir-1', eventsPerSecond: 200_000, matchesLoop: true },
      { query: 'q12', mode: 'loop', eventsPerSecond: 700_000, matchesLoop: true },
      { query: 'q12', mode: 'weir-1', eventsPerSecond: 150_000, matchesLoop: null },
    ];
    const svg = nexmarkSvg(records, '1M events <test>');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<title>/g)?.length).toBe(records.length);
    expect(svg).toContain('q12 weir threads p=1: 150,000 events/s (unchecked)');
    expect(svg).toContain('1M events &lt;test&gt;');
    expect(svg).toContain('>RxJS pipeline</text>');
  });
});
