// Your own usage: paste a key (kept in this browser only) and see requests, tokens and spend.
import { ApiFailure, getJson } from '../api.ts';
import { chartCard, colorOf } from '../charts.ts';
import { fmt, h } from '../dom.ts';
import { card, message, pageHead, table } from '../ui.ts';

interface Figures {
  requests: number;
  errors: number;
  tokens_prompt: number;
  tokens_completion: number;
  cost_usd: number;
  platform_fee_usd: number;
}
interface Budget {
  name: string;
  period: string;
  limit_usd: number;
  spent_usd: number;
  resets_at: string;
}
interface Usage {
  scope: 'account' | 'organization';
  from: string;
  to: string;
  budgets: Budget[];
  data: ({ group: string } & Figures)[];
  totals: Figures;
}

const STORE = 'switchboard.key';

interface Recommendations {
  categories: { category: string; suggestions: { text: string }[] }[];
}

function budgetList(budgets: Budget[]): HTMLElement {
  if (budgets.length === 0) return message('empty', 'No budget applies to this key.');
  return h(
    'ul',
    { class: 'budgets' },
    ...budgets.map((b) => {
      const share = Math.min(1, b.spent_usd / b.limit_usd);
      return h(
        'li',
        { class: share >= 1 ? 'budget spent' : 'budget' },
        h('span', {}, b.name),
        h('progress', { max: '1', value: String(share), 'aria-label': b.name }),
        h('strong', {}, `${fmt.usd(b.spent_usd)} of ${fmt.usd(b.limit_usd)}`),
        h('span', { class: 'muted' }, `resets ${b.resets_at.slice(0, 16).replace('T', ' ')} UTC`),
      );
    }),
  );
}

export function usagePage(root: HTMLElement): void {
  const input = h('input', { type: 'password', id: 'key', autocomplete: 'off', placeholder: 'sk-sb-…', 'aria-label': 'API key', value: localStorage.getItem(STORE) ?? '' });
  const out = h('div', {});
  const form = h(
    'form',
    {
      class: 'keyform',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const key = input.value.trim();
        if (key) localStorage.setItem(STORE, key);
        void show(key);
      },
    },
    h('label', { for: 'key' }, 'API key'),
    input,
    h('button', { type: 'submit' }, 'Show my usage'),
    h(
      'button',
      {
        type: 'button',
        class: 'link',
        onclick: () => {
          localStorage.removeItem(STORE);
          input.value = '';
          out.replaceChildren(message('empty', 'Key forgotten.'));
        },
      },
      'Forget key',
    ),
  );
  root.append(
    pageHead('Your usage', 'Requests, tokens and spend of your account over the last 30 days. The key stays in this browser.'),
    card('Key', form, { wide: true, note: 'Sent only to this service, as a Bearer token.' }),
    out,
  );

  const show = async (key: string) => {
    if (!key) return out.replaceChildren(message('empty', 'Paste a key to see its usage.'));
    const daily = chartCard('Spend and requests by day', { wide: true, height: 300 });
    const totals = h('div', { class: 'totals' }, message('loading', 'Loading…'));
    const byModel = h('div', {}, message('loading', 'Loading…'));
    const byProvider = h('div', {}, message('loading', 'Loading…'));
    const budgets = h('div', {}, message('loading', 'Loading…'));
    const byKey = h('div', {});
    const advice = h('div', {}, message('loading', 'Loading…'));
    out.replaceChildren(
      h(
        'div',
        { class: 'grid' },
        card('Totals', totals, { wide: true }),
        card('Budgets', budgets, { wide: true, note: 'Daily, weekly and monthly budgets in force (UTC), from key limits and policies, with what is spent this period.' }),
        daily.el,
        card('By model', byModel),
        card('By provider', byProvider),
        byKey,
        card('Recommendations', advice, { wide: true, note: 'Per category of your traffic: cheaper models peers prefer at least as much (revealed preference), at your volume.' }),
      ),
    );
    void getJson<Recommendations>('/api/v1/recommendations', key)
      .then((r) => {
        const lines = r.categories.flatMap((c) => c.suggestions.slice(0, 1).map((s) => h('li', {}, s.text)));
        advice.replaceChildren(
          lines.length > 0 ? h('ul', { class: 'advice' }, ...lines) : message('empty', 'Nothing cheaper that peers prefer at least as much in your categories.'),
        );
      })
      .catch((err: Error) => advice.replaceChildren(message('error', err.message)));
    daily.loading();
    try {
      const [d, m, p] = await Promise.all(['day', 'model', 'provider'].map((g) => getJson<Usage>(`/api/v1/usage?group_by=${g}`, key)));
      const t = d.totals;
      budgets.replaceChildren(budgetList(d.budgets));
      totals.replaceChildren(
        ...[
          ['Requests', fmt.int(t.requests)],
          ['Tokens', fmt.tokens(t.tokens_prompt + t.tokens_completion)],
          ['Spend', fmt.usd(t.cost_usd)],
          ['Platform fee', fmt.usd(t.platform_fee_usd)],
          ['Errors', fmt.int(t.errors)],
        ].map(([k, v]) => h('div', { class: 'stat' }, h('span', { class: 'muted' }, k), h('strong', {}, v))),
      );
      if (d.data.length === 0) daily.empty("No requests with this key's account in the last 30 days.");
      else
        daily.render({
          tooltip: { trigger: 'axis' },
          legend: { bottom: 0 },
          grid: { left: 56, right: 56, top: 16, bottom: 48 },
          xAxis: { type: 'category', data: d.data.map((x) => x.group) },
          yAxis: [
            { type: 'value', name: 'USD' },
            { type: 'value', name: 'requests' },
          ],
          series: [
            { name: 'spend (USD)', type: 'bar', color: colorOf('spend'), data: d.data.map((x) => Number((x.cost_usd + x.platform_fee_usd).toFixed(6))) },
            { name: 'requests', type: 'line', yAxisIndex: 1, color: colorOf('requests!'), data: d.data.map((x) => x.requests) },
          ],
        });
      const cols = (first: string) => [
        { title: first, cell: (x: Usage['data'][number]) => x.group },
        { title: 'Requests', cell: (x: Usage['data'][number]) => fmt.int(x.requests), numeric: true },
        { title: 'Tokens', cell: (x: Usage['data'][number]) => fmt.tokens(x.tokens_prompt + x.tokens_completion), numeric: true },
        { title: 'Spend', cell: (x: Usage['data'][number]) => fmt.usd(x.cost_usd + x.platform_fee_usd), numeric: true },
      ];
      byModel.replaceChildren(table('By model', cols('Model'), m.data, 'No requests yet.'));
      byProvider.replaceChildren(table('By provider', cols('Provider'), p.data, 'No requests yet.'));
      if (d.scope === 'organization') {
        const k = await getJson<Usage>('/api/v1/usage?group_by=key', key);
        byKey.replaceChildren(card("By key (your organisation's keys)", table('By key', cols('Key'), k.data, 'No requests yet.'), { wide: true }));
      }
    } catch (err) {
      const msg = err instanceof ApiFailure && err.status === 401 ? 'This key was not accepted.' : (err as Error).message;
      daily.error(msg);
      for (const b of [totals, budgets, byModel, byProvider]) b.replaceChildren(message('error', msg));
    }
  };
  void show(input.value.trim());
}
