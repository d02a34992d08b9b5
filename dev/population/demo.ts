// The demo for `npm start` with the bundled simulator and no traffic yet: a simulated population's
// weeks of history are written straight into ClickHouse (progress in the log), then the same accounts
// keep sending real requests through the router, so every page has data and keeps moving.
import type { ClickHouseClient } from '@clickhouse/client';
import { randomBytes } from 'node:crypto';
import type { Catalog } from '../../catalog/catalog.ts';
import type { Logger } from '../../core/logger.ts';
import type { KeyStore } from '../../router/auth/key-store.ts';
import { recordPastPrices } from '../../analytics/catalog-history.ts';
import { insertRows, toRows } from '../../store/rows.ts';
import { queryRows } from '../../store/clickhouse.ts';
import { DAY_MS } from '../../core/time.ts';
import { simulatePopulation, type Population } from './simulate.ts';

export const DEMO_MODELS = [
  'openai/gpt-4o-mini',
  'openai/gpt-5',
  'anthropic/claude-sonnet-4.5',
  'anthropic/claude-haiku-4.5',
  'google/gemini-2.5-flash',
  'google/gemini-2.5-pro',
  'deepseek/deepseek-chat',
  'meta-llama/llama-3.3-70b-instruct',
  'mistralai/mistral-small-3.2-24b-instruct',
  'qwen/qwen3-235b-a22b',
  'qwen/qwen3-coder',
  'x-ai/grok-4-fast',
  'x-ai/grok-code-fast-1',
  'moonshotai/kimi-k2',
  'z-ai/glm-4.6',
];

export interface DemoOptions {
  accounts: number;
  days: number;
  /** Live requests per second after the backfill (0: none). */
  liveRps: number;
}

export class Demo {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  backfilled = 0;
  liveSent = 0;
  /** The demo's models that this catalog serves. */
  private readonly models: string[];

  constructor(
    private readonly deps: {
      clickhouse: ClickHouseClient;
      catalog: Catalog;
      keys: Pick<KeyStore, 'addEphemeral'>;
      log: Logger;
      /** Where the routers listen (unknown for a moment under the supervisor: those ticks send nothing). */
      url: () => string | undefined;
    },
    private readonly opts: DemoOptions,
  ) {
    this.models = DEMO_MODELS.filter((m) => deps.catalog.model(m));
  }

  /** Backfill only into an empty database: a real deployment's data is never mixed with the demo's. */
  async start(): Promise<void> {
    const [{ n }] = await queryRows<{ n: string }>(this.deps.clickhouse, 'SELECT count() AS n FROM requests');
    if (Number(n) > 0) {
      this.deps.log.info('demo: requests already recorded, no backfill');
      return;
    }
    const t0 = Date.now();
    const pop = simulatePopulation({
      catalog: this.deps.catalog,
      models: this.models,
      seed: 2026,
      accounts: this.opts.accounts,
      days: this.opts.days,
      endMs: Date.now() - 60_000,
      launches: [{ model: 'z-ai/glm-4.6', day: Math.floor(this.opts.days / 3) }],
      priceChanges: [{ model: 'moonshotai/kimi-k2', day: Math.floor((this.opts.days * 3) / 4), factor: 0.4 }],
    });
    // The simulated price cut happened in the recorded past: the catalog's history says so, as it would
    // have for a real one, so the preference API's price events cover it.
    await recordPastPrices(
      this.deps.clickhouse,
      pop.priceChanges.flatMap((c) =>
        (this.deps.catalog.model(c.model)?.endpoints ?? []).map((e) => ({
          ts: c.ts,
          endpointId: e.id,
          provider: e.provider,
          model: e.model,
          pricePrompt: e.pricePrompt * c.factor,
          priceCompletion: e.priceCompletion * c.factor,
          contextLength: e.contextLength,
        })),
      ),
    );
    const { requests } = toRows(pop.events);
    for (let i = 0; i < requests.length && !this.stopped; i += 50_000) {
      await insertRows(this.deps.clickhouse, 'requests', requests.slice(i, i + 50_000));
      this.backfilled = Math.min(requests.length, i + 50_000);
      this.deps.log.info(
        `demo backfill: ${this.backfilled.toLocaleString('en')} of ${requests.length.toLocaleString('en')} requests (${Math.round((100 * this.backfilled) / requests.length)}%)`,
      );
    }
    // The providers' side for the last two days: endpoint figures (model pages, uptime, latency) read the
    // last day of attempts; older ones would only cost backfill time.
    const { attempts } = toRows(pop.attempts.filter((a) => a.ts >= Date.now() - 2 * DAY_MS));
    for (let i = 0; i < attempts.length && !this.stopped; i += 50_000) await insertRows(this.deps.clickhouse, 'attempts', attempts.slice(i, i + 50_000));
    this.deps.log.info({ seconds: (Date.now() - t0) / 1000, accounts: this.opts.accounts, days: this.opts.days }, 'demo backfill done; live traffic starts');
    if (this.opts.liveRps > 0 && !this.stopped) this.live(pop);
  }

  private live(pop: Population): void {
    // Each simulated account gets a key of its own (in memory only), so live usage is attributed to it.
    const secrets = new Map(
      pop.accounts.map((a) => {
        const secret = `sk-demo-${randomBytes(16).toString('hex')}`;
        this.deps.keys.addEphemeral(secret, `demo ${a.id}`, a.id);
        return [a.id, secret];
      }),
    );
    const models = this.models;
    this.timer = setInterval(() => {
      const url = this.deps.url();
      if (url === undefined) return;
      const a = pop.accounts[Math.floor(Math.random() * pop.accounts.length)];
      const model = Math.random() < a.curiosity ? models[Math.floor(Math.random() * models.length)] : a.main;
      this.liveSent++;
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secrets.get(a.id)}`, 'content-type': 'application/json', 'x-title': a.app, 'x-switchboard-category': a.category },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'demo traffic' }], max_tokens: 64 + Math.floor(Math.random() * 400) }),
      }).then(
        (r) => r.arrayBuffer(),
        () => undefined,
      );
    }, 1000 / this.opts.liveRps);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
