// The revealed-preference scores routers choose `switchboard/auto` models from: one table per category
// ('' for all traffic), computed by analytics and carried to every router beside the endpoint signals
// (the same compacted topic in cluster mode, keyed `preference:<category>`; the supervisor's hub
// otherwise). Scores are computed without auto-routed traffic (migration 12), so auto's own choices never
// feed the scores it reads.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { decodeChecked } from './signal.ts';

export const PREFERENCE_TABLE_VERSION = 1;
/** The key prefix of preference tables on the signals topic and the hub. */
export const PREFERENCE_KEY_PREFIX = 'preference:';

export const PreferenceTableSchema = Type.Object(
  {
    v: Type.Literal(PREFERENCE_TABLE_VERSION),
    kind: Type.Literal('preference'),
    category: Type.String({ maxLength: 64, description: "'' for all traffic" }),
    period: Type.String({ maxLength: 16 }),
    computed_at: Type.Integer({ minimum: 0 }),
    scores: Type.Array(
      Type.Object(
        {
          model: Type.String({ minLength: 1, maxLength: 200 }),
          score: Type.Number(),
          low: Type.Number(),
          high: Type.Number(),
          comparisons: Type.Integer({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 10_000 },
    ),
  },
  { additionalProperties: false },
);
export type PreferenceTable = Static<typeof PreferenceTableSchema>;

const check = TypeCompiler.Compile(PreferenceTableSchema);

export function decodePreferenceTable(bytes: Buffer | string | null): { ok: true; table: PreferenceTable } | { ok: false; reason: string } {
  const d = decodeChecked(check, bytes);
  return d.ok ? { ok: true, table: d.value } : d;
}

export const encodePreferenceTable = (t: PreferenceTable): string => JSON.stringify(t);
export const preferenceKey = (category: string): string => `${PREFERENCE_KEY_PREFIX}${category}`;
