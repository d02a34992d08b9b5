// The one error type of the service: it carries its HTTP status and the OpenAI-shaped body, so every
// route and every upstream failure maps to a response in exactly one place (service/error-handler.ts).

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'insufficient_quota'
  | 'rate_limit_error'
  | 'upstream_error'
  | 'service_unavailable'
  | 'server_error';

export interface ErrorBody {
  error: {
    message: string;
    type: ErrorType;
    code: string | number | null;
    param?: string | null;
    /** The provider whose upstream answer caused this error, when one did. */
    provider?: string;
    metadata?: Record<string, unknown>;
  };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly extra: {
      param?: string;
      provider?: string;
      /** The provider's own error text, when its answer caused this error. */
      raw?: string;
      retryAfterSeconds?: number;
      headers?: Record<string, string>;
      metadata?: Record<string, unknown>;
    } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    const error: ErrorBody['error'] = { message: this.message, type: this.type, code: this.code };
    if (this.extra.param !== undefined) error.param = this.extra.param;
    if (this.extra.metadata !== undefined) error.metadata = this.extra.metadata;
    if (this.extra.provider !== undefined) {
      error.provider = this.extra.provider;
      // Where OpenRouter's clients look for the provider and its answer.
      error.metadata = { ...error.metadata, provider_name: this.extra.provider, raw: this.extra.raw ?? null };
    }
    return { error };
  }
}

export const badRequest = (message: string, code = 'invalid_request', param?: string) =>
  new ApiError(400, 'invalid_request_error', code, message, param === undefined ? {} : { param });
export const unauthorized = (message: string) => new ApiError(401, 'authentication_error', 'invalid_api_key', message);
export const forbidden = (message: string, code = 'forbidden') => new ApiError(403, 'permission_error', code, message);
export const notFound = (message: string, code = 'not_found') => new ApiError(404, 'not_found_error', code, message);
export const payloadTooLarge = (message: string) => new ApiError(413, 'invalid_request_error', 'payload_too_large', message);

/** The JSON schema of an error body, for route response schemas and the OpenAPI document. */
export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type', 'code'],
      properties: {
        message: { type: 'string' },
        type: { type: 'string' },
        code: { type: ['string', 'number', 'null'] },
        param: { type: ['string', 'null'] },
        provider: { type: 'string' },
        metadata: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;
