// Connection-level limits of the HTTP server, and its connection-level errors in the API's error shape.
// A client that drips its body, or never finishes its headers, is cut at these bounds instead of holding
// a connection (and its memory) forever; Node checks them once a second here, not every 30 s.
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError } from '../core/errors.ts';

export interface HttpLimits {
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
}

export function limitedServer(limits: HttpLimits): (handler: (req: IncomingMessage, res: ServerResponse) => void) => Server {
  return (handler) => {
    const server = createServer(
      { connectionsCheckingInterval: 1000, requestTimeout: limits.requestTimeoutMs, headersTimeout: limits.headersTimeoutMs, keepAliveTimeout: limits.keepAliveTimeoutMs },
      handler,
    );
    return server;
  };
}

function connectionError(err: NodeJS.ErrnoException): ApiError {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError(408, 'invalid_request_error', 'request_timeout', 'the request did not arrive in time');
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(431, 'invalid_request_error', 'headers_too_large', 'request headers are larger than the server accepts');
    case 'HPE_INVALID_HEADER_TOKEN':
      return new ApiError(400, 'invalid_request_error', 'invalid_header', 'a request header has bytes not allowed in HTTP headers');
    case 'HPE_INVALID_URL':
      return new ApiError(400, 'invalid_request_error', 'invalid_url', 'the request URL is malformed');
    default:
      return new ApiError(400, 'invalid_request_error', 'bad_request', `the request is not valid HTTP (${err.code ?? 'parse error'})`);
  }
}

/** Fastify's clientErrorHandler: the error body as every route gives it, then the connection is closed. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const api = connectionError(err);
  const body = JSON.stringify(api.body());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${api.status} ${STATUS_CODES[api.status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
