// Rankings: which models the world is using, for a day, a week or a month, per category.
import { getJson, qs } from '../api.ts';
import { chartCard, colorOf } from '../charts.ts';
import { fmt, h } from '../dom.ts';
import { appsTable, card, categorySwitcher, downloads, message, modelLink, pageHead, switcher, table } from '../ui.ts';

interface Rankings {
  period: string;
  total_tokens: number;
  models: { rank: number; model: string; author: string; tokens: number; requests: number; share: number; rank_change: number | null; growth: number | null }[];
  other: { models: number; tokens: number; share: number };
  authors: { author: string; tokens: number; share: number }[];
  series: { bucket: string; points: { t: string; model: string; tokens: number }[] };
  apps: { app: string; users: number; requests: number; tokens: number }[];
  trending: { model: string; tokens: number; previous_tokens: number; growth: number }[];
  auto: { model: string; requests: number; tokens: number; share: number }[];
}

const PERIODS = [
  { value: 'day', text: 'Today' },
  { value: 'week', text: 'This week' },
  { value: 'month', text: 'This month' },
];

interface Share {
  points: { t: string; key: string; tokens: number; share: number }[];
}

export function rankingsPage(root: HTMLElement, params: URLSearchParams, go: (p: Record<string, string>) => void): void {
  const period = params.get('period') ?? 'week';
  const category = params.get('category') ?? '';
  const share = chartCard('Token share over time', { wide: true, height: 340, note: 'Top models stacked; the rest as "other".' });
  const authors = chartCard('Market share by author', { height: 300 });
  const authorsOverTime = chartCard('Author share over 90 days', {
    wide: true,
    height: 300,
    note: 'Share of tokens per week, complete days only; the ten largest authors, the rest as "other".',
  });
  const topBox = h('div', {}, message('loading', 'Loading…'));
  const appsBox = h('div', {}, message('loading', 'Loading…'));
  const trendBox = h('div', {}, message('loading', 'Loading…'));
  const autoBox = h('div', {}, message('loading', 'Loading…'));
  root.append(
    pageHead(
      'What developers use',
      'Models ranked by the tokens developers route through them: revealed preference, not benchmark scores.',
      switcher('Period', PERIODS, period, (v) => go({ period: v, category })),
    ),
    categorySwitcher(category, (v) => go({ period, category: v })),
    downloads(
      [
        { dataset: 'rankings', label: 'models' },
        { dataset: 'series', label: 'share over time' },
        { dataset: 'authors', label: 'authors' },
        { dataset: 'apps', label: 'apps' },
        { dataset: 'trending', label: 'trending' },
        { dataset: 'share', label: 'author share over time' },
      ],
      { period, category, limit: '15' },
    ),
    h(
      'div',
      { class: 'grid' },
      share.el,
      card('Top models', topBox, { wide: true }),
      authors.el,
      authorsOverTime.el,
      card('Trending', trendBox, { note: 'Growth against the previous period.' }),
      card('Top apps', appsBox, { note: 'Apps shown once enough distinct users use them.' }),
      card('Where switchboard/auto sends traffic', autoBox, { note: 'Models chosen for requests to switchboard/auto on the days of this period.' }),
    ),
  );
  share.loading();
  authors.loading();
  authorsOverTime.loading();
  getJson<Share>(`/api/v1/rankings/share${qs({ by: 'author', bucket: 'week', category })}`)
    .then((r) => {
      if (r.points.length === 0) return authorsOverTime.empty('No complete day of traffic yet.');
      const weeks = [...new Set(r.points.map((p) => p.t))].sort();
      const keys = [...new Set(r.points.map((p) => p.key))];
      const at = new Map(r.points.map((p) => [`${p.t}|${p.key}`, p.share]));
      authorsOverTime.render({
        tooltip: { trigger: 'axis' },
        legend: { type: 'scroll', bottom: 0 },
        grid: { left: 50, right: 16, top: 16, bottom: 48 },
        xAxis: { type: 'category', data: weeks, boundaryGap: false },
        yAxis: { type: 'value', max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` } },
        series: keys.map((k) => ({
          name: k,
          type: 'line',
          stack: 'share',
          areaStyle: {},
          symbol: 'none',
          lineStyle: { width: 1 },
          color: colorOf(k),
          data: weeks.map((w) => at.get(`${w}|${k}`) ?? 0),
        })),
      });
    })
    .catch((err: Error) => authorsOverTime.error(err.message));
  getJson<Rankings>(`/api/v1/rankings${qs({ period, category, limit: '15' })}`)
    .then((r) => {
      topBox.replaceChildren(
        table(
          'Top models',
          [
            { title: '#', cell: (m) => m.rank, numeric: true },
            { title: 'Model', cell: (m) => modelLink(m.model) },
            {
              title: 'Change',
              cell: (m) =>
                m.rank_change === null
                  ? h('span', { class: 'badge new' }, 'new')
                  : m.rank_change === 0
                    ? '–'
                    : h('span', { class: m.rank_change > 0 ? 'up' : 'down' }, `${m.rank_change > 0 ? '▲' : '▼'} ${Math.abs(m.rank_change)}`),
              numeric: true,
            },
            { title: 'Tokens', cell: (m) => fmt.tokens(m.tokens), numeric: true },
            { title: 'Share', cell: (m) => fmt.pct(m.share), numeric: true },
            { title: 'Growth', cell: (m) => fmt.growth(m.growth), numeric: true },
          ],
          r.models,
          'No traffic in this period yet.',
        ),
        ...(r.other.models > 0 ? [h('p', { class: 'note' }, `Other: ${r.other.models} models, ${fmt.tokens(r.other.tokens)} tokens (${fmt.pct(r.other.share)})`)] : []),
      );
      appsBox.replaceChildren(appsTable('Top apps', r.apps, 'No app has enough distinct users yet.'));
      autoBox.replaceChildren(
        table(
          'Auto routing',
          [
            { title: 'Model', cell: (m) => modelLink(m.model) },
            { title: 'Requests', cell: (m) => fmt.int(m.requests), numeric: true },
            { title: 'Share', cell: (m) => fmt.pct(m.share), numeric: true },
          ],
          r.auto,
          'No auto-routed traffic in this period.',
        ),
      );
      trendBox.replaceChildren(
        table(
          'Trending',
          [
            { title: 'Model', cell: (m) => modelLink(m.model) },
            { title: 'Tokens', cell: (m) => fmt.tokens(m.tokens), numeric: true },
            { title: 'Growth', cell: (m) => fmt.growth(m.growth), numeric: true },
          ],
          r.trending,
          'Nothing trending yet.',
        ),
      );

      if (r.series.points.length === 0) share.empty('No traffic in this period yet.');
      else {
        const times = [...new Set(r.series.points.map((p) => p.t))].sort();
        const models = [...new Set(r.series.points.map((p) => p.model))];
        const at = new Map(r.series.points.map((p) => [`${p.t}|${p.model}`, p.tokens]));
        share.render({
          tooltip: { trigger: 'axis' },
          legend: { type: 'scroll', bottom: 0 },
          grid: { left: 50, right: 16, top: 16, bottom: 48 },
          xAxis: { type: 'category', data: times.map((t) => (r.series.bucket === 'hour' ? t.slice(5, 16) : t.slice(0, 10))), boundaryGap: false },
          yAxis: { type: 'value', axisLabel: { formatter: (v: number) => fmt.tokens(v) } },
          series: models.map((m) => ({
            name: m,
            type: 'line',
            stack: 'tokens',
            areaStyle: {},
            symbol: 'none',
            lineStyle: { width: 1 },
            color: colorOf(m),
            data: times.map((t) => at.get(`${t}|${m}`) ?? 0),
          })),
        });
      }
      if (r.authors.length === 0) authors.empty('No traffic in this period yet.');
      else {
        const list = [...r.authors].slice(0, 12).reverse();
        authors.render({
          tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
          grid: { left: 110, right: 40, top: 8, bottom: 24 },
          xAxis: { type: 'value', axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` } },
          yAxis: { type: 'category', data: list.map((a) => a.author) },
          series: [
            {
              type: 'bar',
              name: 'share',
              data: list.map((a) => ({ value: a.share, itemStyle: { color: colorOf(a.author) } })),
              label: { show: true, position: 'right', formatter: (p: { value: number }) => fmt.pct(p.value) },
            },
          ],
        });
      }
    })
    .catch((err: Error) => {
      share.error(err.message);
      authors.error(err.message);
      for (const b of [topBox, appsBox, trendBox]) b.replaceChildren(message('error', `Could not load: ${err.message}`));
    });
}
