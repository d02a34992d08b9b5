// Bodies are validated strictly (no type coercion, nothing silently removed): a client sending "5" for
// max_tokens hears about it. Query strings are text by nature, so they are coerced to their types.
import { Ajv, type Options } from 'ajv';
import type { FastifyInstance, FastifySchema } from 'fastify';

const common: Options = { allErrors: false, strict: false, useDefaults: true };

export function installValidation(app: FastifyInstance): void {
  const strict = new Ajv({ ...common, coerceTypes: false, removeAdditional: false });
  const coercing = new Ajv({ ...common, coerceTypes: 'array', removeAdditional: false });
  app.setValidatorCompiler(({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }) => (httpPart === 'body' ? strict : coercing).compile(schema as object));
}
