// DOM and number formatting helpers of the dashboard (text always through textContent, never innerHTML).

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An HTML element with attributes (`data-*`, `class`, ...), event handlers (`on*`) and children (nodes or text). */
export function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element, as `h`. */
export function s(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return el;
}

/** Sets an element's text and its `data-value` (the raw number, for tests and tools), touching the DOM only on change. */
export function setValue(el, value, text) {
  const raw = value === undefined || value === null || Number.isNaN(value) ? '' : String(value);
  if (el.dataset.value !== raw) el.dataset.value = raw;
  if (el.textContent !== text) el.textContent = text;
}

const rateFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const countFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Records per second. */
export const rate = (v) => (v === undefined || v === null || Number.isNaN(v) ? '–' : `${rateFormat.format(v)}/s`);

/** A count. */
export const count = (v) => (v === undefined || v === null || Number.isNaN(v) ? '–' : countFormat.format(v));

/** Bytes in B, KiB, MiB or GiB. */
export function bytes(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** A duration in ms, s, min or h. */
export function duration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

/** True for a watermark that has not started yet (Flink sends Long.MIN_VALUE, weir -Infinity). */
export const noWatermark = (ms) => ms === undefined || ms === null || Number.isNaN(ms) || ms < -1e15;

/** An event-time instant: ISO time in UTC, or "none yet". */
export function instant(ms) {
  if (noWatermark(ms)) return 'none yet';
  if (ms > 8.64e15) return 'end of input';
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
