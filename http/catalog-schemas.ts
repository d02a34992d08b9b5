// Response schemas of the catalog as OpenRouter publishes it (catalog/public.ts builds the values), shared by
// the router's model list and the data process's per-model endpoints.
import { Type } from '@sinclair/typebox';
import { Nullable } from '../core/nullable.ts';

export const PricingSchema = Type.Object(
  {
    prompt: Type.String(),
    completion: Type.String(),
    request: Type.String(),
    image: Type.String(),
  },
  { description: 'USD per token (prompt, completion), per request and per image, as decimal strings' },
);

export const ArchitectureSchema = Type.Object({
  modality: Type.String(),
  input_modalities: Type.Array(Type.String()),
  output_modalities: Type.Array(Type.String()),
  tokenizer: Type.String(),
  instruct_type: Type.Null(),
});

export const PublicModelFields = {
  id: Type.String(),
  canonical_slug: Type.String(),
  hugging_face_id: Type.Null(),
  name: Type.String(),
  created: Type.Integer({ description: 'unix seconds: when the catalog entry was compiled' }),
  description: Type.String(),
  context_length: Type.Integer(),
  architecture: ArchitectureSchema,
  pricing: PricingSchema,
  top_provider: Type.Object({ context_length: Type.Integer(), max_completion_tokens: Type.Integer(), is_moderated: Type.Boolean() }),
  per_request_limits: Type.Null(),
  supported_parameters: Type.Array(Type.String()),
};

export const PercentilesSchema = Nullable(Type.Object({ p50: Type.Number(), p75: Type.Number(), p90: Type.Number(), p99: Type.Number() }));
