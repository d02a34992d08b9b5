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
interface Usage {
  from: string;
  to: string;
  data: ({ group: string } & Figures)[];
  totals: Figures;
}

const STORE = 'switchboard.key';

interface Recommendations {
  categories: { category: string; suggestions: { text: string }[] }[];
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
    const advice = h('div', {}, message('loading', 'Loading…'));
    out.replaceChildren(
      h(
        'div',
        { class: 'grid' },
        card('Totals', totals, { wide: true }),
        daily.el,
        card('By model', byModel),
        card('By provider', byProvider),
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
    } catch (err) {
      const msg = err instanceof ApiFailure && err.status === 401 ? 'This key was not accepted.' : (err as Error).message;
      daily.error(msg);
      for (const b of [totals, byModel, byProvider]) b.replaceChildren(message('error', msg));
    }
  };
  void show(input.value.trim());
}
