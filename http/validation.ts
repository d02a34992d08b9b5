// Bodies are validated strictly (no type coercion, nothing silently removed): a client sending "5" for
// max_tokens hears about it. Query strings are text by nature, so they are coerced to their types.
import { Ajv, type Options } from 'ajv';
import type { FastifyInstance, FastifySchema } from 'fastify';

const common: Options = { allErrors: false, strict: false, useDefaults: true };

export function installValidation(app: FastifyInstance): void {
  const strict = new Ajv({ ...common, coerceTypes: false, removeAdditional: false });
  const coercing = new Ajv({ ...common, coerceTypes: 'array', removeAdditional: false });
  // Clients (OpenRouter's SDK among them) send DELETE with a JSON content type and no body; Fastify's
  // parser refuses an empty JSON body. A DELETE here never has one to read.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' && request.method === 'DELETE') return done(null, undefined);
    json(request, body as string, done);
  });
  app.setValidatorCompiler(({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }) => (httpPart === 'body' ? strict : coercing).compile(schema as object));
}
