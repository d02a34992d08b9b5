// Every error, ours or Fastify's, becomes an OpenAI-shaped body with the right status here and only here.
import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError, badRequest, notFound, payloadTooLarge } from '../core/errors.ts';

export function toApiError(err: FastifyError | Error): ApiError {
  if (err instanceof ApiError) return err;
  const fe = err as FastifyError & { validationContext?: string };
  if (fe.validation) {
    const v = fe.validation[0];
    const where = `${fe.validationContext ?? 'body'}${v?.instancePath ?? ''}`;
    const param = where.replace(/^body\/?/, '').replace(/\//g, '.') || undefined;
    return badRequest(`${where} ${v?.message ?? 'is invalid'}`, 'invalid_request', param);
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return payloadTooLarge('request body is larger than the limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'invalid_request_error', 'unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return badRequest('request body is empty', 'empty_body');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return badRequest('content-length does not match the body', 'invalid_content_length');
  }
  if (err instanceof SyntaxError || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return badRequest(`request body is not valid JSON: ${err.message}`, 'invalid_json');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return new ApiError(fe.statusCode, 'invalid_request_error', fe.code ?? 'bad_request', err.message);
  return new ApiError(500, 'server_error', 'internal_error', 'internal error; it has been logged');
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const api = toApiError(err);
    if (api.status >= 500) request.log.error({ err, reqId: request.id }, 'request failed');
    if (reply.sent || reply.raw.headersSent) return;
    // Answered before its body was read (a bad key, a body too large): close rather than keep reading it.
    if (!request.raw.complete) reply.header('connection', 'close');
    for (const [k, v] of Object.entries(api.extra.headers ?? {})) reply.header(k, v);
    if (api.extra.retryAfterSeconds !== undefined) reply.header('retry-after', String(api.extra.retryAfterSeconds));
    reply.status(api.status).send(api.body());
  });
  app.setNotFoundHandler((request, reply) => {
    const api = notFound(`no route ${request.method} ${request.url.split('?')[0]}`, 'route_not_found');
    reply.status(404).send(api.body());
  });
}
