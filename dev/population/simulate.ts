// A population of accounts with hidden, known preferences, for demos and for checking the analytics
// against the truth. Each account has a category, a sensitivity to price and to speed, and a curiosity:
// on some days it tries another model for part of its traffic, and it switches when the other model is
// better for it (its utility, with a little noise of judgement). Models can launch late and change price;
// price-sensitive accounts look again when a price drops. The output is raw request events plus the truth.
import { createHash } from 'node:crypto';
import type { Catalog, Model } from '../../catalog/catalog.ts';
import { seededRandom } from '../../core/random.ts';
import { type AttemptEvent, EVENT_VERSION, type RequestEvent } from '../../telemetry/event.ts';
import { DAY_MS as DAY, isoDay, mondayOf } from '../../core/time.ts';

export const SIM_CATEGORIES = ['programming', 'roleplay', 'translation', 'general'] as const;

export interface PopulationOptions {
  catalog: Catalog;
  models: string[];
  seed: number;
  /** Seeds the models' hidden qualities apart from the accounts, so replicate populations share one world. */
  worldSeed?: number;
  accounts: number;
  days: number;
  /** End of the simulated span (ms); it starts `days` before. */
  endMs: number;
  requestsPerDay?: number;
  launches?: { model: string; day: number }[];
  priceChanges?: { model: string; day: number; factor: number }[];
  /** Keep only weekly usage (what revealed preference reads), not events: for populations of many thousands. */
  weeklyOnly?: boolean;
}

/** Answered tokens of one account on one model in one calendar week (Monday, YYYY-MM-DD). */
export interface WeeklyUse {
  account: string;
  week: string;
  model: string;
  tokens: number;
}

export interface Population {
  events: RequestEvent[];
  /** One answered attempt per request, for the endpoint figures. */
  attempts: AttemptEvent[];
  weekly: WeeklyUse[];
  /**
   * Per category, models best first by the utility that category's accounts would get from them, averaged
   * over the days each model was available: the preference over the period, which is what behaviour in
   * the period reveals (a price change mid-way counts for the days it was in force).
   */
  truth: Record<string, string[]>;
  /** Per category, each model's mean utility to the category's accounts over the days it was available. */
  truthUtility: Record<string, Record<string, number>>;
  priceChanges: { model: string; ts: number; factor: number }[];
  /** Where each account stands at the end: what live traffic continues from. */
  accounts: { id: string; category: string; app: string; main: string; curiosity: number }[];
}

interface Account {
  id: string;
  category: string;
  priceSens: number;
  speedSens: number;
  curiosity: number;
  volume: number;
  main: string;
}

const uuidOf = (seed: string) =>
  createHash('sha1')
    .update(seed)
    .digest('hex')
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, '$1-$2-$3-$4-$5');

const gaussian = (r: () => number) => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());

export function simulatePopulation(o: PopulationOptions): Population {
  const random = seededRandom(o.seed);
  const worldRandom = o.worldSeed === undefined ? random : seededRandom(o.worldSeed);
  const models = o.models.map((id) => {
    const m = o.catalog.model(id);
    if (!m) throw new Error(`population: unknown model ${id}`);
    return m;
  });
  const cheapest = (m: Model) => [...m.endpoints].sort((a, b) => a.pricePrompt + a.priceCompletion - (b.pricePrompt + b.priceCompletion))[0];
  // Hidden quality per model and category: a model's general strength plus a category-specific twist.
  const quality = new Map(
    models.map((m) => {
      const base = gaussian(worldRandom);
      return [m.id, Object.fromEntries(SIM_CATEGORIES.map((c) => [c, base + 0.8 * gaussian(worldRandom)]))];
    }),
  );
  const launchDay = new Map((o.launches ?? []).map((l) => [l.model, l.day]));
  const priceFactor = (model: string, day: number) => (o.priceChanges ?? []).filter((p) => p.model === model && p.day <= day).reduce((f, p) => f * p.factor, 1);
  const price = (m: Model, day: number) => {
    const e = cheapest(m);
    return ((e.pricePrompt + e.priceCompletion) / 2) * priceFactor(m.id, day);
  };
  const utility = (a: Account, m: Model, day: number) => quality.get(m.id)![a.category] - a.priceSens * Math.log(price(m, day) + 0.01) - a.speedSens * (cheapest(m).ttftMs / 1000);
  const available = (day: number) => models.filter((m) => (launchDay.get(m.id) ?? 0) <= day);

  const accounts: Account[] = Array.from({ length: o.accounts }, (_, i) => {
    const pool = available(0);
    return {
      id: `pop_${createHash('sha1').update(`${o.seed}:${i}`).digest('hex').slice(0, 10)}`,
      category: SIM_CATEGORIES[i % SIM_CATEGORIES.length],
      priceSens: 0.6 * random(),
      speedSens: 0.3 * random(),
      curiosity: 0.05 + 0.25 * random(),
      volume: 2 + Math.floor(6 * random()),
      main: pool[Math.floor(random() * pool.length)].id,
    };
  });
  const byId = new Map(models.map((m) => [m.id, m]));
  const start = o.endMs - o.days * DAY;
  const events: RequestEvent[] = [];
  const attempts: AttemptEvent[] = [];
  const weekly = new Map<string, WeeklyUse>();
  let n = 0;
  const emit = (a: Account, m: Model, day: number) => {
    const e = cheapest(m);
    const ts = Math.min(o.endMs - 1, start + day * DAY + Math.floor(random() * DAY));
    const prompt = 200 + Math.floor(1800 * random());
    const completion = 50 + Math.floor(450 * random());
    const week = isoDay(mondayOf(ts));
    const use = weekly.get(`${a.id} ${week} ${m.id}`);
    if (use) use.tokens += prompt + completion;
    else weekly.set(`${a.id} ${week} ${m.id}`, { account: a.id, week, model: m.id, tokens: prompt + completion });
    if (o.weeklyOnly) return;
    const f = priceFactor(m.id, day);
    const cost = Math.round((((prompt * e.pricePrompt + completion * e.priceCompletion) * f) / 1e6) * 1e9) / 1e9;
    // Every other answer streamed (throughput is measured on streamed answers), without drawing a number.
    const streamed = n % 2 === 0;
    const common = {
      v: EVENT_VERSION,
      generation_id: `gen-pop-${o.seed}-${n}`,
      ts,
      account_id: a.id,
      key_id: `key_${a.id}`,
      provider: e.provider,
      endpoint_id: e.id,
      status: 200,
      error_class: 'none',
      latency_ms: e.ttftMs + completion * (1000 / e.tokensPerSecond),
      ttft_ms: e.ttftMs,
      tokens_prompt: prompt,
      tokens_completion: completion,
      cost_usd: cost,
      streamed,
    } as const;
    // The provider's side of the request (one attempt that answered): what endpoint figures are read from.
    attempts.push({ ...common, kind: 'attempt', event_id: uuidOf(`${o.seed}:a:${n}`), attempt: 0, model: m.id });
    events.push({
      kind: 'request',
      event_id: uuidOf(`${o.seed}:e:${n++}`),
      ...common,
      app: `app-${a.id.slice(4, 6)}`,
      category: a.category,
      requested_model: m.id,
      served_model: m.id,
      fee_usd: Math.round(cost * 0.055 * 1e9) / 1e9,
      fallback_depth: 0,
      attempts: 1,
    });
  };

  for (let day = 0; day < o.days; day++) {
    const pool = available(day);
    const cutToday = new Set((o.priceChanges ?? []).filter((p) => p.day === day && p.factor < 1).map((p) => p.model));
    for (const a of accounts) {
      const main = byId.get(a.main)!;
      let trial: Model | undefined;
      // Price-sensitive accounts hear about a price cut and look at once; otherwise curiosity decides.
      const cut = [...cutToday].find((id) => id !== a.main && a.priceSens > 0.3 && random() < 0.6);
      if (cut) trial = byId.get(cut);
      else if (random() < a.curiosity && pool.length > 1) {
        const others = pool.filter((m) => m.id !== a.main);
        trial = others[Math.floor(random() * others.length)];
      }
      const requests = Math.max(1, Math.round(a.volume * (o.requestsPerDay ?? 1) * (0.5 + random())));
      for (let r = 0; r < requests; r++) emit(a, trial && r % 3 === 0 ? trial : main, day);
      if (trial && utility(a, trial, day) + 0.05 * gaussian(random) > utility(a, main, day) + 0.05 * gaussian(random)) a.main = trial.id;
    }
  }

  const truth: Record<string, string[]> = {};
  const truthUtility: Record<string, Record<string, number>> = {};
  for (const c of SIM_CATEGORIES) {
    const members = accounts.filter((a) => a.category === c);
    const ranked = models
      .map((m) => {
        const days = Array.from({ length: o.days }, (_, d) => d).filter((d) => (launchDay.get(m.id) ?? 0) <= d);
        const u = days.reduce((sum, d) => sum + members.reduce((t, a) => t + utility(a, m, d), 0) / members.length, 0) / days.length;
        return { id: m.id, u };
      })
      .sort((x, y) => y.u - x.u);
    truth[c] = ranked.map((x) => x.id);
    truthUtility[c] = Object.fromEntries(ranked.map((x) => [x.id, x.u]));
  }
  const finalAccounts = accounts.map((a) => ({ id: a.id, category: a.category, app: `app-${a.id.slice(4, 6)}`, main: a.main, curiosity: a.curiosity }));
  return {
    accounts: finalAccounts,
    events,
    attempts,
    weekly: [...weekly.values()],
    truth,
    truthUtility,
    priceChanges: (o.priceChanges ?? []).map((p) => ({ model: p.model, ts: start + p.day * DAY, factor: p.factor })),
  };
}
