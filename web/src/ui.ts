// Shared page pieces: segmented switches, tables, page headers, status messages.
import { CATEGORIES } from '../../router/classify.ts';
import { fmt, h } from './dom.ts';

/** A row of toggle buttons (keyboard: Tab to reach, Enter/Space to pick). */
export function switcher(label: string, options: readonly { value: string; text: string }[], current: string, onPick: (v: string) => void): HTMLElement {
  return h(
    'div',
    { class: 'switch', role: 'group', 'aria-label': label },
    ...options.map((o) => h('button', { type: 'button', 'aria-pressed': String(o.value === current), 'data-value': o.value, onclick: () => onPick(o.value) }, o.text)),
  );
}

/** The category tabs: "All" and every category the router assigns. */
export function categorySwitcher(current: string, onPick: (v: string) => void): HTMLElement {
  return switcher('Category', [{ value: '', text: 'All' }, ...CATEGORIES.map((c) => ({ value: c, text: c[0].toUpperCase() + c.slice(1) }))], current, onPick);
}

export interface Column<T> {
  title: string;
  cell: (row: T) => Node | string | number;
  numeric?: boolean;
}

export function table<T>(caption: string, columns: Column<T>[], rows: T[], empty = 'No data yet.'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'state empty', role: 'status' }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : undefined }, c.title)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...columns.map((c) => h('td', { class: c.numeric ? 'num' : undefined }, c.cell(r)))))),
    ),
  );
}

/** Apps with their distinct users and tokens (the rankings and a model's page). */
export function appsTable(caption: string, apps: { app: string; users: number; tokens: number }[], empty: string): HTMLElement {
  return table(
    caption,
    [
      { title: 'App', cell: (a) => a.app },
      { title: 'Users', cell: (a) => fmt.int(a.users), numeric: true },
      { title: 'Tokens', cell: (a) => fmt.tokens(a.tokens), numeric: true },
    ],
    apps,
    empty,
  );
}

export function pageHead(title: string, lead: string, ...controls: (Node | null)[]): HTMLElement {
  return h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, title), h('p', { class: 'lead' }, lead)), h('div', { class: 'controls' }, ...controls));
}

export function card(title: string, body: Node, opts: { wide?: boolean; note?: string } = {}): HTMLElement {
  return h('section', { class: `card${opts.wide ? ' wide' : ''}`, 'aria-label': title }, h('h2', {}, title), opts.note ? h('p', { class: 'note' }, opts.note) : null, body);
}

export function modelLink(id: string): HTMLElement {
  return h('a', { href: `#/model/${id}` }, id);
}

export function message(kind: 'loading' | 'empty' | 'error', text: string): HTMLElement {
  return h('p', { class: `state ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** Links to the page's datasets as files (the figures shown, from /api/v1/exports). */
export function downloads(datasets: readonly { dataset: string; label: string }[], params: Record<string, string>): HTMLElement {
  const query = (format: string) => new URLSearchParams({ ...Object.fromEntries(Object.entries(params).filter(([, v]) => v !== '')), format }).toString();
  return h(
    'p',
    { class: 'downloads note' },
    'Download: ',
    ...datasets.flatMap((d, i) => [
      i > 0 ? ' · ' : '',
      `${d.label} `,
      h('a', { href: `/api/v1/exports/${d.dataset}?${query('csv')}`, download: '' }, 'CSV'),
      ' ',
      h('a', { href: `/api/v1/exports/${d.dataset}?${query('parquet')}`, download: '' }, 'Parquet'),
    ]),
  );
}
