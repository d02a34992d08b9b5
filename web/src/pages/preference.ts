// Revealed preference: where developers move when they switch, who keeps them, and pairwise scores.
import { getJson, qs } from '../api.ts';
import { chartCard, colorOf } from '../charts.ts';
import { intervalSeries } from '../intervals.ts';
import { fmt, h } from '../dom.ts';
import { card, categorySwitcher, downloads, message, modelLink, pageHead, switcher, table } from '../ui.ts';

interface Preference {
  accounts: number;
  retention: { model: string; cohort_users: number; retention: { w1: number | null; w2: number | null; w4: number | null } }[];
  switching: { from: string; to: string; accounts: number }[];
  pairwise: { outcomes: number; scores: { model: string; score: number; low: number; high: number; comparisons: number; tied_with: string[] }[] };
  price_events: {
    model: string;
    endpoint: string;
    at: string;
    price_prompt: number;
    price_completion: number;
    share: { before: number; after: number };
    peers: { model: string; share: { before: number; after: number } }[];
  }[];
}

const PERIODS = [
  { value: 'month', text: 'Month' },
  { value: 'quarter', text: 'Quarter' },
  { value: 'year', text: 'Year' },
];

// Sankey nodes must not form cycles (A→B and B→A): the two sides are distinct nodes with the same label.
const FROM = 'from\u0000';
const TO = 'to\u0000';
const label = (node: string) => node.slice(node.indexOf('\u0000') + 1);

export function preferencePage(root: HTMLElement, params: URLSearchParams, go: (p: Record<string, string>) => void): void {
  const period = params.get('period') ?? 'quarter';
  const category = params.get('category') ?? '';
  const flows = chartCard('Where developers move', { wide: true, height: 420, note: "Each account's main model one week (left) and the next (right), when it changed." });
  const retention = chartCard('Who keeps its users', { height: 340, note: "Share of a week's users still using the model 1, 2 and 4 weeks later." });
  const scores = chartCard('Pairwise preference', {
    height: 380,
    note: 'Bradley–Terry scores from switches that stuck, with 95% intervals (jackknife over accounts); models with too few comparisons are left out.',
  });
  const eventsBox = h('div', {}, message('loading', 'Loading…'));
  root.append(
    pageHead(
      'Revealed preference',
      'Not what people say they prefer: what their traffic does when they switch, and whether they stay.',
      switcher('Period', PERIODS, period, (v) => go({ period: v, category })),
    ),
    categorySwitcher(category, (v) => go({ period, category: v })),
    downloads(
      [
        { dataset: 'preference_scores', label: 'scores' },
        { dataset: 'preference_wins', label: 'win matrix' },
        { dataset: 'preference_flows', label: 'flows' },
        { dataset: 'preference_retention', label: 'retention' },
      ],
      { period, category },
    ),
    h(
      'div',
      { class: 'grid' },
      flows.el,
      retention.el,
      scores.el,
      card('Price changes and what followed', eventsBox, { wide: true, note: "A model's share in the 48 hours before and after each price change, beside its peers." }),
    ),
  );
  for (const c of [flows, retention, scores]) c.loading();
  getJson<Preference>(`/api/v1/rankings/preference${qs({ period, category })}`)
    .then((p) => {
      const moves = p.switching.filter((s) => s.from !== s.to).slice(0, 40);
      if (moves.length === 0) flows.empty('No switches in this period yet.');
      else {
        const nodes = new Set<string>();
        for (const m of moves) {
          nodes.add(FROM + m.from);
          nodes.add(TO + m.to);
        }
        flows.render({
          tooltip: {
            trigger: 'item',
            formatter: (x: { dataType: string; data: { source: string; target: string; value: number }; name: string }) =>
              x.dataType === 'edge' ? `${label(x.data.source)} → ${label(x.data.target)}: ${x.data.value} accounts` : label(x.name),
          },
          series: [
            {
              type: 'sankey',
              left: 8,
              right: 160,
              top: 8,
              bottom: 8,
              nodeGap: 10,
              emphasis: { focus: 'adjacency' },
              label: { formatter: (x: { name: string }) => label(x.name) },
              lineStyle: { color: 'gradient', opacity: 0.35 },
              data: [...nodes].map((n) => ({ name: n, itemStyle: { color: colorOf(label(n)) } })),
              links: moves.map((m) => ({ source: FROM + m.from, target: TO + m.to, value: m.accounts })),
            },
          ],
        });
      }
      const ret = p.retention.filter((r) => r.retention.w1 !== null).slice(0, 8);
      if (ret.length === 0) retention.empty('Not enough weeks of history yet.');
      else
        retention.render({
          tooltip: { trigger: 'axis' },
          legend: { type: 'scroll', bottom: 0 },
          grid: { left: 48, right: 16, top: 16, bottom: 48 },
          xAxis: { type: 'category', data: ['week 0', '+1 week', '+2 weeks', '+4 weeks'] },
          yAxis: { type: 'value', max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` } },
          series: ret.map((r) => ({ name: r.model, type: 'line', color: colorOf(r.model), connectNulls: true, data: [1, r.retention.w1, r.retention.w2, r.retention.w4] })),
        });
      const sc = [...p.pairwise.scores].slice(0, 15).reverse();
      if (sc.length === 0) scores.empty('Not enough switches to compare models yet.');
      else
        scores.render({
          tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
          grid: { left: 190, right: 24, top: 8, bottom: 24 },
          xAxis: { type: 'value', scale: true },
          yAxis: { type: 'category', data: sc.map((s) => s.model), axisLabel: { width: 180, overflow: 'truncate' } },
          series: intervalSeries(sc, colorOf),
        });
      eventsBox.replaceChildren(
        table(
          'Price changes',
          [
            { title: 'Model', cell: (e) => modelLink(e.model) },
            { title: 'Endpoint', cell: (e) => e.endpoint },
            { title: 'When', cell: (e) => e.at.slice(0, 16).replace('T', ' ') },
            { title: 'New price (in/out per M)', cell: (e) => `${fmt.price(e.price_prompt)} / ${fmt.price(e.price_completion)}`, numeric: true },
            { title: 'Share before → after', cell: (e) => `${fmt.pct(e.share.before)} → ${fmt.pct(e.share.after)}`, numeric: true },
            {
              title: 'Peers (avg) before → after',
              cell: (e) => (e.peers.length === 0 ? '—' : `${fmt.pct(avg(e.peers.map((x) => x.share.before)))} → ${fmt.pct(avg(e.peers.map((x) => x.share.after)))}`),
              numeric: true,
            },
          ],
          p.price_events,
          'No price changes in this period.',
        ),
      );
    })
    .catch((err: Error) => {
      for (const c of [flows, retention, scores]) c.error(err.message);
      eventsBox.replaceChildren(message('error', `Could not load: ${err.message}`));
    });
}

const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
