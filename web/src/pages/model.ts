// A model's page: its providers side by side, how they behaved over the last day, daily tokens, apps.
import { getJson, qs } from '../api.ts';
import { chartCard, colorOf } from '../charts.ts';
import { fmt, h } from '../dom.ts';
import { appsTable, card, message, modelLink, pageHead, table } from '../ui.ts';

interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
}
interface ModelStats {
  model: string;
  name: string;
  author: string;
  endpoints: {
    endpoint: string;
    provider: string;
    provider_name: string;
    pricing: { prompt: number; completion: number };
    context_length: number;
    requests_1d: number;
    rate_limited_1d: number;
    latency_ms: Quantiles | null;
    ttft_ms: Quantiles | null;
    tokens_per_second: number | null;
    uptime: { m5: number | null; m30: number | null; d1: number | null };
  }[];
  daily_tokens: { day: string; provider: string; tokens: number }[];
  series: { t: string; provider: string; ttft_p50_ms: number | null; latency_p50_ms: number | null; uptime: number | null }[];
  apps: { app: string; users: number; requests: number; tokens: number }[];
  auto: { category: string; requests: number; tokens: number }[];
  auto_away: { to: string; requests: number }[];
}

export function modelPage(root: HTMLElement, id: string): void {
  const providersBox = h('div', {}, message('loading', 'Loading…'));
  const appsBox = h('div', {}, message('loading', 'Loading…'));
  const autoBox = h('div', {}, message('loading', 'Loading…'));
  const ttft = chartCard('Time to first token by hour (p50)', { height: 300 });
  const uptime = chartCard('Uptime by hour', { height: 300 });
  const daily = chartCard('Daily tokens by provider', { wide: true, height: 300 });
  const slowest = chartCard('Time to first token by day, 30 days', { height: 300, note: 'Solid: p50; dashed: p90.' });
  const speed = chartCard('Streamed throughput by day, 30 days', { height: 300, note: 'Tokens per second after the first token. Solid: p50; dashed: the slowest 10%.' });
  const head = pageHead(id, 'Loading…');
  root.append(
    head,
    h(
      'div',
      { class: 'grid' },
      card('Providers side by side', providersBox, { wide: true, note: 'Prices in USD per million tokens; figures over the last day.' }),
      ttft.el,
      uptime.el,
      daily.el,
      slowest.el,
      speed.el,
      card('Apps using it', appsBox, { note: 'Apps shown once enough distinct users use them.' }),
      card('Sent here by switchboard/auto', autoBox, { note: 'Requests auto routing chose this model for, per category, over 30 days.' }),
    ),
  );
  for (const c of [ttft, uptime, daily, slowest, speed]) c.loading();
  performanceCharts(id, slowest, speed);
  getJson<ModelStats>(`/api/v1/models/${id.split('/').map(encodeURIComponent).join('/')}/stats`)
    .then((m) => {
      head.replaceWith(pageHead(m.name, `${m.model} by ${m.author}, served by ${m.endpoints.length} provider endpoint${m.endpoints.length === 1 ? '' : 's'}.`));
      providersBox.replaceChildren(
        table(
          'Providers',
          [
            { title: 'Provider', cell: (e) => e.provider_name },
            { title: 'Input', cell: (e) => fmt.price(e.pricing.prompt), numeric: true },
            { title: 'Output', cell: (e) => fmt.price(e.pricing.completion), numeric: true },
            { title: 'Context', cell: (e) => fmt.tokens(e.context_length), numeric: true },
            { title: 'Latency p50', cell: (e) => fmt.ms(e.latency_ms?.p50), numeric: true },
            { title: 'TTFT p50', cell: (e) => fmt.ms(e.ttft_ms?.p50), numeric: true },
            { title: 'Tokens/s', cell: (e) => (e.tokens_per_second === null ? '—' : e.tokens_per_second.toFixed(0)), numeric: true },
            { title: 'Uptime 5m / 30m / 1d', cell: (e) => `${fmt.pct(e.uptime.m5)} / ${fmt.pct(e.uptime.m30)} / ${fmt.pct(e.uptime.d1)}`, numeric: true },
            { title: 'Requests 1d', cell: (e) => fmt.int(e.requests_1d), numeric: true },
          ],
          m.endpoints,
        ),
      );
      appsBox.replaceChildren(appsTable('Apps', m.apps, 'No app with enough distinct users uses it yet.'));
      autoBox.replaceChildren(
        table(
          'Auto routing',
          [
            { title: 'Category', cell: (a) => a.category },
            { title: 'Requests', cell: (a) => fmt.int(a.requests), numeric: true },
            { title: 'Tokens', cell: (a) => fmt.tokens(a.tokens), numeric: true },
          ],
          m.auto,
          'switchboard/auto has not chosen this model in the last 30 days.',
        ),
        ...(m.auto_away.length > 0
          ? [h('p', { class: 'note' }, `Chosen but served elsewhere after a failover: ${m.auto_away.map((a) => `${fmt.int(a.requests)} to ${a.to}`).join(', ')}.`)]
          : []),
      );
      const hours = [...new Set(m.series.map((s) => s.t))].sort();
      const providers = [...new Set(m.series.map((s) => s.provider))];
      const at = new Map(m.series.map((s) => [`${s.t}|${s.provider}`, s]));
      const lines = (pick: (s: ModelStats['series'][number]) => number | null) =>
        providers.map((p) => ({
          name: p,
          type: 'line',
          color: colorOf(p),
          connectNulls: true,
          symbol: 'circle',
          symbolSize: 4,
          data: hours.map((t) => pick(at.get(`${t}|${p}`) ?? { t, provider: p, ttft_p50_ms: null, latency_p50_ms: null, uptime: null })),
        }));
      const axes = {
        tooltip: { trigger: 'axis' },
        legend: { type: 'scroll', bottom: 0 },
        grid: { left: 56, right: 16, top: 16, bottom: 48 },
        xAxis: { type: 'category', data: hours.map((t) => t.slice(11, 16)) },
      };
      if (hours.length === 0) {
        ttft.empty('No traffic in the last day.');
        uptime.empty('No traffic in the last day.');
      } else {
        ttft.render({ ...axes, yAxis: { type: 'value', axisLabel: { formatter: (v: number) => fmt.ms(v) } }, series: lines((s) => s.ttft_p50_ms) });
        uptime.render({ ...axes, yAxis: { type: 'value', max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` } }, series: lines((s) => s.uptime) });
      }
      const days = [...new Set(m.daily_tokens.map((d) => d.day))].sort();
      const dprov = [...new Set(m.daily_tokens.map((d) => d.provider))];
      const dat = new Map(m.daily_tokens.map((d) => [`${d.day}|${d.provider}`, d.tokens]));
      if (days.length === 0) daily.empty('No tokens in the last 30 days.');
      else
        daily.render({
          tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
          legend: { type: 'scroll', bottom: 0 },
          grid: { left: 56, right: 16, top: 16, bottom: 48 },
          xAxis: { type: 'category', data: days.map((d) => d.slice(5)) },
          yAxis: { type: 'value', axisLabel: { formatter: (v: number) => fmt.tokens(v) } },
          series: dprov.map((p) => ({ name: p, type: 'bar', stack: 'tokens', color: colorOf(p), data: days.map((d) => dat.get(`${d}|${p}`) ?? 0) })),
        });
    })
    .catch((err: Error) => {
      head.replaceWith(pageHead(id, err.message));
      providersBox.replaceChildren(message('error', `Could not load: ${err.message}`));
      appsBox.replaceChildren(message('error', `Could not load: ${err.message}`));
      autoBox.replaceChildren(message('error', `Could not load: ${err.message}`));
      for (const c of [ttft, uptime, daily]) c.error(err.message);
    });
}

interface Performance {
  points: {
    t: string;
    provider: string;
    ttft_ms: { p50: number; p90: number } | null;
    tokens_per_second: { p50: number; p90: number } | null;
  }[];
}

/** Each provider's p50 and p90 per day over 30 days: one solid and one dashed line per provider. */
function performanceCharts(id: string, slowest: ReturnType<typeof chartCard>, speed: ReturnType<typeof chartCard>): void {
  getJson<Performance>(`/api/v1/models/${id.split('/').map(encodeURIComponent).join('/')}/performance${qs({ days: '30', bucket: 'day' })}`)
    .then((perf) => {
      const days = [...new Set(perf.points.map((p) => p.t))].sort();
      const providers = [...new Set(perf.points.map((p) => p.provider))];
      const at = new Map(perf.points.map((p) => [`${p.t}|${p.provider}`, p]));
      const lines = (pick: (p: Performance['points'][number]) => { p50: number; p90: number } | null) =>
        providers.flatMap((provider) =>
          (['p50', 'p90'] as const).map((q) => ({
            name: `${provider} ${q}`,
            type: 'line',
            color: colorOf(provider),
            connectNulls: true,
            symbolSize: 4,
            lineStyle: { type: q === 'p50' ? 'solid' : 'dashed' },
            data: days.map((d) => {
              const p = at.get(`${d}|${provider}`);
              return p ? (pick(p)?.[q] ?? null) : null;
            }),
          })),
        );
      const base = {
        tooltip: { trigger: 'axis' },
        legend: { type: 'scroll', bottom: 0 },
        grid: { left: 56, right: 16, top: 16, bottom: 48 },
        xAxis: { type: 'category', data: days.map((d) => d.slice(5, 10)) },
      };
      if (days.length === 0) slowest.empty('No traffic in the last 30 days.');
      else slowest.render({ ...base, yAxis: { type: 'value', axisLabel: { formatter: (v: number) => fmt.ms(v) } }, series: lines((p) => p.ttft_ms) });
      if (!perf.points.some((p) => p.tokens_per_second)) speed.empty('No streamed answers in the last 30 days.');
      else speed.render({ ...base, yAxis: { type: 'value' }, series: lines((p) => p.tokens_per_second) });
    })
    .catch((err: Error) => {
      slowest.error(err.message);
      speed.error(err.message);
    });
}

interface RankedModels {
  models: { model: string; author: string; tokens: number; share: number }[];
}

/** The index: every model with traffic this month, filterable. */
export function modelsIndex(root: HTMLElement): void {
  const box = h('div', {}, message('loading', 'Loading…'));
  const filter = h('input', { type: 'search', placeholder: 'Filter models…', 'aria-label': 'Filter models' });
  root.append(pageHead('Models', 'Every model with traffic this month: open one to compare its providers.', filter), card('Models by tokens this month', box, { wide: true }));
  getJson<RankedModels>(`/api/v1/rankings${qs({ period: 'month', limit: '100' })}`)
    .then((r) => {
      const show = () => {
        const q = filter.value.trim().toLowerCase();
        box.replaceChildren(
          table(
            'Models',
            [
              { title: 'Model', cell: (m) => modelLink(m.model) },
              { title: 'Author', cell: (m) => m.author },
              { title: 'Tokens', cell: (m) => fmt.tokens(m.tokens), numeric: true },
              { title: 'Share', cell: (m) => fmt.pct(m.share), numeric: true },
            ],
            r.models.filter((m) => m.model.toLowerCase().includes(q)),
            'No model matches.',
          ),
        );
      };
      filter.addEventListener('input', show);
      show();
    })
    .catch((err: Error) => box.replaceChildren(message('error', `Could not load: ${err.message}`)));
}
