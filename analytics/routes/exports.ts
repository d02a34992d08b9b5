// Every public dataset as a file: CSV or Parquet. Each is read through its own public route (same
// validation, same cached computation), so a download holds exactly the figures the page shows; each row
// carries when they were computed and the span of data they cover. Parquet is written by ClickHouse from
// the rows (the same engine that stores them), so no second encoder lives here.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import { badRequest } from '../../core/errors.ts';
import { errorResponses } from '../../http/schemas.ts';

type Row = Record<string, unknown>;
type Body = Record<string, any>;

interface Dataset {
  /** The public route the figures come from, and the query parameters it takes. */
  path: (q: ExportQuery) => string;
  params: readonly ('period' | 'category' | 'limit' | 'by' | 'bucket' | 'from' | 'to' | 'days')[];
  rows: (body: Body) => Row[];
  /** Facts of the whole answer repeated on every row. */
  meta: readonly string[];
}

const RANKINGS_META = ['period', 'category', 'from', 'to', 'computed_at'] as const;
const PREFERENCE_META = ['period', 'category', 'from', 'to', 'computed_at'] as const;

const DATASETS: Record<string, Dataset> = {
  rankings: { path: () => '/api/v1/rankings', params: ['period', 'category', 'limit'], rows: (b) => b.models, meta: RANKINGS_META },
  authors: { path: () => '/api/v1/rankings', params: ['period', 'category'], rows: (b) => b.authors, meta: RANKINGS_META },
  series: { path: () => '/api/v1/rankings', params: ['period', 'category', 'limit'], rows: (b) => b.series.points, meta: RANKINGS_META },
  apps: { path: () => '/api/v1/rankings', params: ['period', 'category', 'limit'], rows: (b) => b.apps, meta: RANKINGS_META },
  trending: { path: () => '/api/v1/rankings', params: ['period', 'category'], rows: (b) => b.trending, meta: RANKINGS_META },
  preference_scores: { path: () => '/api/v1/rankings/preference', params: ['period', 'category'], rows: (b) => b.pairwise.scores, meta: PREFERENCE_META },
  preference_wins: { path: () => '/api/v1/rankings/preference', params: ['period', 'category'], rows: (b) => b.pairwise.wins, meta: PREFERENCE_META },
  preference_flows: { path: () => '/api/v1/rankings/preference', params: ['period', 'category'], rows: (b) => b.switching, meta: PREFERENCE_META },
  preference_retention: { path: () => '/api/v1/rankings/preference', params: ['period', 'category'], rows: (b) => b.retention, meta: PREFERENCE_META },
  share: {
    path: () => '/api/v1/rankings/share',
    params: ['by', 'bucket', 'from', 'to', 'category'],
    rows: (b) => b.points,
    meta: ['by', 'bucket', 'category', 'from', 'to', 'computed_at'],
  },
  endpoints: { path: (q) => `/api/v1/models/${q.model ?? ''}/stats`, params: [], rows: (b) => b.endpoints, meta: ['model', 'computed_at'] },
  performance: {
    path: (q) => `/api/v1/models/${q.model ?? ''}/performance`,
    params: ['days', 'bucket'],
    rows: (b) => b.points,
    meta: ['model', 'bucket', 'from', 'to', 'computed_at'],
  },
};

const Params = Type.Object({ dataset: Type.Union(Object.keys(DATASETS).map((d) => Type.Literal(d))) });
const Query = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('parquet')], { default: 'csv' })),
    period: Type.Optional(Type.String({ maxLength: 16 })),
    category: Type.Optional(Type.String({ maxLength: 32 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    model: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}/[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$', description: 'for the endpoints and performance datasets' })),
    by: Type.Optional(Type.String({ maxLength: 16 })),
    bucket: Type.Optional(Type.String({ maxLength: 16 })),
    from: Type.Optional(Type.String({ maxLength: 10 })),
    to: Type.Optional(Type.String({ maxLength: 10 })),
    days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })),
  },
  { additionalProperties: false },
);
type ExportQuery = Static<typeof Query>;

/** Nested objects flattened to `a_b` columns, lists joined with ';'. */
export function flatten(row: Row, prefix = '', out: Row = {}): Row {
  for (const [k, v] of Object.entries(row)) {
    const name = prefix ? `${prefix}_${k}` : k;
    if (Array.isArray(v)) out[name] = v.join(';');
    else if (v !== null && typeof v === 'object') flatten(v as Row, name, out);
    else out[name] = v;
  }
  return out;
}

const csvField = (v: unknown) => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

export function toCsv(columns: readonly string[], rows: readonly Row[]): string {
  return [columns.join(','), ...rows.map((r) => columns.map((c) => csvField(r[c])).join(','))].join('\r\n') + '\r\n';
}

/** ClickHouse types for the columns, from the values (numbers all whole: Int64), every one nullable. */
function columnTypes(columns: readonly string[], rows: readonly Row[]): string {
  return columns
    .map((c) => {
      const values = rows.map((r) => r[c]).filter((v) => v !== null && v !== undefined);
      const type = values.every((v) => typeof v === 'boolean')
        ? 'Bool'
        : values.every((v) => typeof v === 'number')
          ? values.every((v) => Number.isInteger(v))
            ? 'Int64'
            : 'Float64'
          : 'String';
      return `\`${c.replaceAll('`', '')}\` Nullable(${values.length === 0 ? 'String' : type})`;
    })
    .join(', ');
}

async function toParquet(clickhouse: ClickHouseClient, columns: readonly string[], rows: readonly Row[]): Promise<Buffer> {
  const structure = columnTypes(columns, rows);
  const data = rows
    .map((r) => JSON.stringify(Object.fromEntries(columns.map((c) => [c, typeof r[c] === 'number' || typeof r[c] === 'boolean' || r[c] === null ? r[c] : String(r[c] ?? '')]))))
    .join('\n');
  const result = await clickhouse.exec({ query: 'SELECT * FROM format(JSONEachRow, {structure:String}, {data:String}) FORMAT Parquet', query_params: { structure, data } });
  const chunks: Buffer[] = [];
  for await (const c of result.stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

export function registerExportsRoute(app: FastifyInstance, deps: { clickhouse: ClickHouseClient }): void {
  app.get<{ Params: Static<typeof Params>; Querystring: ExportQuery }>(
    '/api/v1/exports/:dataset',
    {
      schema: {
        summary: 'A public dataset as CSV or Parquet: the figures its page shows, with when they were computed',
        tags: ['analytics'],
        params: Params,
        querystring: Query,
        response: { 200: Type.String({ description: 'CSV text (text/csv) or Parquet bytes (application/vnd.apache.parquet)' }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const d = DATASETS[request.params.dataset];
      const q = request.query;
      if (d.path(q).includes('/models//')) throw badRequest(`the ${request.params.dataset} dataset needs model=author/slug`, 'invalid_request', 'model');
      const search = new URLSearchParams();
      for (const p of d.params) if (q[p] !== undefined) search.set(p, String(q[p]));
      const source = await app.inject({ method: 'GET', url: `${d.path(q)}${search.size > 0 ? `?${search}` : ''}` });
      // The source's own answer to bad parameters (a period it does not know…) is the answer here too.
      if (source.statusCode !== 200) return reply.code(source.statusCode).type('application/json').send(source.body);
      const body = source.json() as Body;
      const rows = d.rows(body).map((r) => ({ ...Object.fromEntries(d.meta.map((m) => [m, body[m] ?? null])), ...flatten(r) }));
      const columns = [...new Set([...d.meta, ...rows.flatMap((r) => Object.keys(r))])];
      const name = [request.params.dataset, q.model?.replace('/', '_'), q.period ?? body.period, q.category].filter(Boolean).join('-');
      const format = q.format ?? 'csv';
      reply.header('content-disposition', `attachment; filename="${name}.${format}"`);
      if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(toCsv(columns, rows));
      return reply.type('application/vnd.apache.parquet').send(await toParquet(deps.clickhouse, columns, rows));
    },
  );
}
