// Live provider status: every endpoint with a signal, its status, routing share and sparklines, refreshing
// on its own every two seconds.
import { getJson } from '../api.ts';
import { fmt, h, sparkline } from '../dom.ts';
import { message, modelLink, pageHead, switcher } from '../ui.ts';

interface Point {
  t: number;
  status: string;
  error_rate: number;
  rate_limited_rate: number;
  ttft_p50_ms: number | null;
  latency_p50_ms: number | null;
  attempts_per_second: number;
}
interface Row {
  endpoint_id: string;
  provider: string;
  model: string;
  status: 'healthy' | 'degraded' | 'down' | 'recovering' | 'unknown';
  stale: boolean;
  share: number;
  effect: string;
  signal: {
    reason: string;
    error_rate: number;
    rate_limited_rate: number;
    ttft_p50_ms: number | null;
    uptime_5m: number | null;
    attempts_per_second: number;
    cap_rps: number | null;
  } | null;
  history?: Point[];
}
interface Status {
  now: number;
  counts: Record<string, number>;
  last_signal_at: number;
  endpoints: Row[];
}

const ORDER = { down: 0, degraded: 1, recovering: 2, healthy: 3, unknown: 4 } as const;
const REFRESH_MS = 2000;

export function statusPage(root: HTMLElement, params: URLSearchParams, go: (p: Record<string, string>) => void): () => void {
  const show = params.get('show') ?? 'active';
  const summary = h('div', { class: 'summary', 'aria-live': 'polite' }, message('loading', 'Loading…'));
  const grid = h('div', { class: 'status-grid' });
  root.append(
    pageHead(
      'Provider status',
      'Live degradation signals for every provider endpoint, and the share of traffic each gets right now.',
      switcher(
        'Show',
        [
          { value: 'active', text: 'With traffic' },
          { value: 'problems', text: 'Problems' },
          { value: 'all', text: 'All' },
        ],
        show,
        (v) => go({ show: v }),
      ),
    ),
    summary,
    grid,
  );
  let stopped = false;
  let timer: number | undefined;
  const load = async () => {
    try {
      const s = await getJson<Status>('/api/v1/providers/status?history=true');
      if (stopped) return;
      const rows = s.endpoints
        .filter((r) => (show === 'all' ? true : show === 'problems' ? r.status === 'down' || r.status === 'degraded' || r.status === 'recovering' : r.signal !== null))
        .sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.model.localeCompare(b.model) || a.provider.localeCompare(b.provider));
      const age = s.last_signal_at ? Math.round((s.now - s.last_signal_at) / 1000) : null;
      summary.replaceChildren(
        ...(['healthy', 'recovering', 'degraded', 'down'] as const).map((k) => h('span', { class: `pill ${k}` }, `${s.counts[k] ?? 0} ${k}`)),
        h('span', { class: 'muted' }, age === null ? 'no signals received yet' : `signals ${age} s old · refreshing every ${REFRESH_MS / 1000} s`),
      );
      grid.replaceChildren(
        ...(rows.length === 0 ? [message('empty', show === 'problems' ? 'No endpoint has a problem right now.' : 'No endpoint has traffic yet.')] : rows.map(tile)),
      );
    } catch (err) {
      if (!stopped) summary.replaceChildren(message('error', `Could not load: ${(err as Error).message} (retrying)`));
    } finally {
      if (!stopped) timer = window.setTimeout(load, REFRESH_MS);
    }
  };
  void load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function tile(r: Row): HTMLElement {
  const hist = r.history ?? [];
  const sig = r.signal;
  return h(
    'article',
    { class: `tile ${r.status}${r.stale ? ' stale' : ''}`, 'data-endpoint': r.endpoint_id, 'data-status': r.status },
    h('header', {}, h('strong', {}, r.provider), h('span', { class: `badge ${r.status}` }, r.stale ? `${r.status} (stale)` : r.status)),
    h('div', { class: 'model' }, modelLink(r.model)),
    h(
      'dl',
      {},
      h('dt', {}, 'Share'),
      h('dd', {}, fmt.pct(r.share)),
      h('dt', {}, 'Errors'),
      h('dd', {}, fmt.pct(sig?.error_rate)),
      h('dt', {}, 'TTFT p50'),
      h('dd', {}, fmt.ms(sig?.ttft_p50_ms)),
      h('dt', {}, 'Uptime 5m'),
      h('dd', {}, fmt.pct(sig?.uptime_5m)),
    ),
    h(
      'div',
      { class: 'sparks' },
      h('span', { class: 'muted' }, 'errors'),
      sparkline(
        hist.map((p) => p.error_rate),
        { label: `error rate of ${r.provider} over the last two minutes`, max: 0.05 },
      ),
      h('span', { class: 'muted' }, 'latency'),
      sparkline(
        hist.map((p) => p.latency_p50_ms),
        { label: `latency of ${r.provider} over the last two minutes` },
      ),
    ),
    sig && r.status !== 'healthy' ? h('p', { class: 'reason' }, sig.reason) : null,
    sig?.cap_rps != null ? h('p', { class: 'reason' }, `traffic cap ${sig.cap_rps.toFixed(1)}/s`) : null,
  );
}
