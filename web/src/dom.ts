// Building DOM without HTML strings: every piece of data becomes a text node, so a name from the data
// (an app called `<img src=x onerror=…>`) can only ever show as text.
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

const SVG = 'http://www.w3.org/2000/svg';

/** A small line of values (null gaps skipped), for status cards. */
export function sparkline(values: (number | null)[], opts: { label: string; width?: number; height?: number; max?: number }): SVGSVGElement {
  const w = opts.width ?? 120;
  const ht = opts.height ?? 28;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${ht}`);
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(ht));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', opts.label);
  svg.classList.add('spark');
  const nums = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (nums.length < 2) return svg;
  const max = Math.max(opts.max ?? 0, ...nums) || 1;
  const step = w / Math.max(1, values.length - 1);
  const pts = values.map((v, i) => (v === null ? null : `${(i * step).toFixed(1)},${(ht - 2 - (v / max) * (ht - 4)).toFixed(1)}`)).filter(Boolean);
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', pts.join(' '));
  svg.appendChild(line);
  return svg;
}

export const fmt = {
  int: (n: number) => Math.round(n).toLocaleString('en-US'),
  tokens: (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(Math.round(n))),
  pct: (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(digits)}%`),
  ms: (x: number | null | undefined) => (x === null || x === undefined ? '—' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`),
  usd: (x: number) => (x >= 100 ? `$${x.toFixed(0)}` : x >= 1 ? `$${x.toFixed(2)}` : `$${x.toFixed(4)}`),
  price: (x: number) => `$${x.toFixed(2)}`,
  growth: (x: number | null | undefined) => (x === null || x === undefined ? 'new' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`),
};
