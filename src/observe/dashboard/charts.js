// Live charts with uPlot (loaded as the global `uPlot` from /vendor/uplot.js): records in/out per second and the share of time backpressured, per vertex.

/** Points kept per chart: two minutes at one poll a second. */
const KEEP = 120;

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** One vertex's chart: in/s and out/s on the left axis, % of time backpressured on the right. */
export class RateChart {
  constructor(parent, width = 360, height = 140) {
    this.data = [[], [], [], []];
    const UPlot = globalThis.uPlot;
    if (!UPlot) {
      this.plot = undefined;
      return;
    }
    this.plot = new UPlot(
      {
        width,
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, '%': { range: [0, 100] } },
        series: [
          {},
          { label: 'in/s', stroke: '#3867d6', width: 1.5 },
          { label: 'out/s', stroke: '#20a39e', width: 1.5 },
          { label: 'backpressured %', scale: '%', stroke: '#d64541', width: 1, dash: [4, 3] },
        ],
        axes: [
          { size: 26, space: 60 },
          { size: 46, values: (_u, ticks) => ticks.map((v) => compact.format(v)) },
          { side: 1, scale: '%', size: 36, grid: { show: false }, values: (_u, ticks) => ticks.map((v) => `${v}%`) },
        ],
      },
      this.data,
      parent,
    );
  }

  /** Adds a point (`at` in ms since the epoch); a repeated `at` (no new sample) is skipped. */
  push(at, inRate, outRate, backPressuredPct) {
    const t = at / 1000;
    const xs = this.data[0];
    if (xs.length && xs[xs.length - 1] >= t) return;
    const values = [t, inRate ?? null, outRate ?? null, backPressuredPct ?? null];
    values.forEach((v, i) => {
      this.data[i].push(v);
      if (this.data[i].length > KEEP) this.data[i].shift();
    });
    this.plot?.setData(this.data);
  }

  destroy() {
    this.plot?.destroy();
  }
}
