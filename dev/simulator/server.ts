// The bundled provider simulator: one loopback HTTP server that plays every provider endpoint of the
// catalog, OpenAI-compatible at /<provider>/v1/chat/completions and Anthropic Messages at
// /<provider>/v1/messages, with realistic timing and run-time switchable faults. Plain node:http, because
// it must also be able to misbehave at the socket level (reset, hang, cut mid-body).
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Catalog, Endpoint } from '../../catalog/catalog.ts';
import { FaultBoard, FaultSchema, type Fault } from './faults.ts';
import { drawLatency } from './latency.ts';
import { completionLength, completionText, tokenText } from './completion.ts';
import { promptTokens } from '../../core/tokens.ts';
import { structuredAnswer, structuredTokens, type StructuredAnswer } from './structured.ts';

const faultCheck = TypeCompiler.Compile(FaultSchema);
const sleep = (ms: number) => (ms <= 0 ? Promise.resolve() : new Promise<void>((r) => setTimeout(r, ms)));

export interface SimulatorOptions {
  catalog: Catalog;
  host?: string;
  port?: number;
  /** Multiplies every delay; 0 answers at once (benchmarks of the router's own overhead). */
  latencyScale?: number;
  /** When set, /admin/* needs `Authorization: Bearer <token>` (required off loopback). */
  adminToken?: string;
}

export interface Simulator {
  url: string;
  faults: FaultBoard;
  /** Requests served per endpoint id since start or the last reset. */
  counts: Map<string, number>;
  close(): Promise<void>;
}

interface Plan {
  endpoint: Endpoint;
  stream: boolean;
  prompt: number;
  completion: number;
  fault: Fault | undefined;
  ttftMs: number;
  msPerToken: number;
  /** A tool call or JSON instead of words (dev/simulator/structured.ts). */
  structured?: StructuredAnswer;
  /** Tokens of extended thinking before the answer (Messages API with `thinking`), counted in its output. */
  thinking: number;
}

/** The content block index of the answer's text: after the thinking block when there is one. */
const textIndex = (plan: Plan) => (plan.thinking > 0 ? 1 : 0);
const THINKING_CAP = 12;

/** Whether the answer ends at max_tokens rather than where it would by itself. */
const cutShort = (plan: Plan) => plan.completion < (plan.structured ? structuredTokens(plan.structured) : completionLength(plan.prompt, undefined));

/** A JSON answer's text, cut where max_tokens ends it. */
const jsonText = (plan: Plan, text: string) => (cutShort(plan) ? text.slice(0, plan.completion * 4) : text);

/** Pieces of a text for streaming it in a few chunks. */
function pieces(text: string, n = 4): string[] {
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function providerError(api: 'openai' | 'anthropic', status: number, message: string): unknown {
  return api === 'anthropic'
    ? { type: 'error', error: { type: status === 429 ? 'rate_limit_error' : status >= 500 ? 'overloaded_error' : 'invalid_request_error', message } }
    : { error: { message, type: status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error', code: status } };
}

/** Answers the faults that replace a normal answer; returns true when the request is finished. */
function applyBlockingFault(plan: Plan, res: ServerResponse, api: 'openai' | 'anthropic'): boolean {
  const f = plan.fault;
  if (!f) return false;
  switch (f.mode) {
    case 'error':
      json(res, f.status ?? 500, providerError(api, f.status ?? 500, 'simulated upstream error'));
      return true;
    case 'server_error':
      json(res, f.status ?? 503, providerError(api, f.status ?? 503, 'simulated overload'));
      return true;
    case 'rate_limit':
      json(res, 429, providerError(api, 429, 'simulated rate limit'), { 'retry-after': String(f.retryAfterSeconds ?? 1) });
      return true;
    case 'reset':
      res.socket?.destroy();
      return true;
    case 'hang':
      return true; // never answer; the socket is closed when the client gives up or the simulator stops
    default:
      return false;
  }
}

function openAiMessage(plan: Plan): { message: Record<string, unknown>; finish: string } {
  const a = plan.structured;
  if (a?.kind === 'tool') {
    return {
      message: { role: 'assistant', content: null, tool_calls: [{ id: a.id, type: 'function', function: { name: a.name, arguments: a.arguments } }] },
      finish: 'tool_calls',
    };
  }
  const content = a?.kind === 'json' ? jsonText(plan, a.text) : completionText(plan.completion);
  return { message: { role: 'assistant', content }, finish: cutShort(plan) ? 'length' : 'stop' };
}

function openAiBody(plan: Plan, id: string, created: number): unknown {
  const { message, finish } = openAiMessage(plan);
  return {
    id,
    object: 'chat.completion',
    created,
    model: plan.endpoint.providerModelId,
    choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
    usage: { prompt_tokens: plan.prompt, completion_tokens: plan.completion, total_tokens: plan.prompt + plan.completion },
  };
}

function anthropicBody(plan: Plan, id: string): unknown {
  const a = plan.structured;
  const stop = a?.kind === 'tool' ? 'tool_use' : cutShort(plan) ? 'max_tokens' : 'end_turn';
  const answer =
    a?.kind === 'tool'
      ? [{ type: 'tool_use', id: a.id, name: a.name, input: JSON.parse(a.arguments) }]
      : [{ type: 'text', text: a?.kind === 'json' ? jsonText(plan, a.text) : completionText(plan.completion) }];
  const content = plan.thinking > 0 ? [{ type: 'thinking', thinking: completionText(plan.thinking), signature: 'simulated' }, ...answer] : answer;
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: plan.endpoint.providerModelId,
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: { input_tokens: plan.prompt, output_tokens: plan.completion + plan.thinking },
  };
}

async function answerWhole(plan: Plan, res: ServerResponse, api: 'openai' | 'anthropic'): Promise<void> {
  await sleep(plan.ttftMs + plan.msPerToken * plan.completion);
  if (res.destroyed) return;
  const id = api === 'anthropic' ? `msg_${randomBytes(12).toString('hex')}` : `chatcmpl-${randomBytes(12).toString('hex')}`;
  const body = api === 'anthropic' ? anthropicBody(plan, id) : openAiBody(plan, id, Math.floor(Date.now() / 1000));
  const text = JSON.stringify(body);
  if (plan.fault?.mode === 'malformed_json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text.slice(0, Math.floor(text.length / 2)));
    return;
  }
  if (plan.fault?.mode === 'cut_stream') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    // Destroy only once the partial body is on the wire, or the client would see a plain reset.
    res.write(text.slice(0, Math.floor(text.length / 2)), () => setTimeout(() => res.socket?.destroy(), 5));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Streams tokens in groups so a fast endpoint does not need a timer per token. */
async function answerStream(plan: Plan, res: ServerResponse, api: 'openai' | 'anthropic'): Promise<void> {
  await sleep(plan.ttftMs);
  if (res.destroyed) return;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const id = api === 'anthropic' ? `msg_${randomBytes(12).toString('hex')}` : `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const model = plan.endpoint.providerModelId;
  const send = (event: string | null, data: unknown) => res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });

  if (api === 'anthropic') {
    send('message_start', {
      type: 'message_start',
      message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: plan.prompt, output_tokens: 1 } },
    });
    if (plan.thinking > 0) {
      send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } });
      send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: completionText(plan.thinking) } });
      send('content_block_stop', { type: 'content_block_stop', index: 0 });
    }
    send('content_block_start', { type: 'content_block_start', index: textIndex(plan), content_block: { type: 'text', text: '' } });
  } else {
    send(null, chunk({ role: 'assistant', content: '' }, null));
  }

  if (plan.structured) return streamStructured(plan, plan.structured, api, send, chunk, () => res.end());

  const midStreamFault = plan.fault?.mode === 'cut_stream' || plan.fault?.mode === 'malformed_json';
  const cutAt = plan.fault?.mode === 'cut_stream' ? Math.max(1, Math.floor(plan.completion / 2)) : Infinity;
  let perChunk = plan.msPerToken > 0 ? Math.max(1, Math.ceil(15 / plan.msPerToken)) : plan.completion;
  // A fault that strikes mid-stream needs a middle: at least a few chunks, whatever the speed.
  if (midStreamFault) perChunk = Math.max(1, Math.min(perChunk, Math.floor(plan.completion / 4)));
  for (let i = 0; i < plan.completion; i += perChunk) {
    if (res.destroyed) return;
    if (i >= cutAt) {
      // Drop the connection only once what was sent is on the wire, or the client sees a plain reset.
      res.write('', () => setTimeout(() => res.socket?.destroy(), 5));
      return;
    }
    if (plan.fault?.mode === 'malformed_json' && i > 0) {
      send(null, '{"id": "broken", "choices": [{"delta": {"content": "unterminated');
      res.end();
      return;
    }
    let text = '';
    const end = Math.min(plan.completion, i + perChunk);
    for (let t = i; t < end; t++) text += tokenText(t);
    if (api === 'anthropic') send('content_block_delta', { type: 'content_block_delta', index: textIndex(plan), delta: { type: 'text_delta', text } });
    else send(null, chunk({ content: text }, null));
    if (end < plan.completion) await sleep(plan.msPerToken * (end - i));
  }
  const natural = completionLength(plan.prompt, undefined);
  if (api === 'anthropic') {
    send('content_block_stop', { type: 'content_block_stop', index: textIndex(plan) });
    send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: plan.completion < natural ? 'max_tokens' : 'end_turn', stop_sequence: null },
      usage: { output_tokens: plan.completion + plan.thinking },
    });
    send('message_stop', { type: 'message_stop' });
  } else {
    send(null, chunk({}, plan.completion < natural ? 'length' : 'stop'));
    send(null, {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [],
      usage: { prompt_tokens: plan.prompt, completion_tokens: plan.completion, total_tokens: plan.prompt + plan.completion },
    });
    send(null, '[DONE]');
  }
  res.end();
}

type Send = (event: string | null, data: unknown) => void;
type Chunk = (delta: Record<string, unknown>, finish: string | null) => unknown;

/** A tool call or JSON, streamed in a few pieces (a tool's arguments as OpenAI and Anthropic stream them). */
function streamStructured(plan: Plan, a: StructuredAnswer, api: 'openai' | 'anthropic', send: Send, chunk: Chunk, end: () => void): void {
  const usage = { prompt_tokens: plan.prompt, completion_tokens: plan.completion, total_tokens: plan.prompt + plan.completion };
  if (api === 'anthropic') {
    const at = textIndex(plan);
    if (a.kind === 'tool') {
      send('content_block_stop', { type: 'content_block_stop', index: at });
      send('content_block_start', { type: 'content_block_start', index: at + 1, content_block: { type: 'tool_use', id: a.id, name: a.name, input: {} } });
      for (const p of pieces(a.arguments)) send('content_block_delta', { type: 'content_block_delta', index: at + 1, delta: { type: 'input_json_delta', partial_json: p } });
      send('content_block_stop', { type: 'content_block_stop', index: at + 1 });
    } else {
      for (const p of pieces(jsonText(plan, a.text))) send('content_block_delta', { type: 'content_block_delta', index: at, delta: { type: 'text_delta', text: p } });
      send('content_block_stop', { type: 'content_block_stop', index: at });
    }
    const stop = a.kind === 'tool' ? 'tool_use' : cutShort(plan) ? 'max_tokens' : 'end_turn';
    send('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: plan.completion + plan.thinking } });
    send('message_stop', { type: 'message_stop' });
    end();
    return;
  }
  if (a.kind === 'tool') {
    send(null, chunk({ tool_calls: [{ index: 0, id: a.id, type: 'function', function: { name: a.name, arguments: '' } }] }, null));
    for (const p of pieces(a.arguments)) send(null, chunk({ tool_calls: [{ index: 0, function: { arguments: p } }] }, null));
    send(null, chunk({}, 'tool_calls'));
  } else {
    for (const p of pieces(jsonText(plan, a.text))) send(null, chunk({ content: p }, null));
    send(null, chunk({}, cutShort(plan) ? 'length' : 'stop'));
  }
  const last = chunk({}, null) as Record<string, unknown>;
  send(null, { ...last, choices: [], usage });
  send(null, '[DONE]');
  end();
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const scale = opts.latencyScale ?? 1;
  const faults = new FaultBoard();
  const counts = new Map<string, number>();
  const index = new Map<string, Endpoint>();
  for (const e of opts.catalog.endpoints) {
    index.set(`${e.provider}|${e.providerModelId}`, e);
    index.set(`${e.provider}|${e.model}`, e);
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/admin/faults' && req.method === 'GET') return json(res, 200, { faults: faults.list() });
    if (path === '/admin/faults' && req.method === 'PUT') {
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return json(res, 400, { error: { message: 'body must be JSON', type: 'invalid_request_error', code: 'invalid_json' } });
      }
      if (!faultCheck.Check(body)) {
        const e = faultCheck.Errors(body).First();
        return json(res, 400, { error: { message: `invalid fault: ${e?.path} ${e?.message}`, type: 'invalid_request_error', code: 'invalid_fault' } });
      }
      faults.set(body);
      return json(res, 200, { faults: faults.list() });
    }
    if (path === '/admin/faults' && req.method === 'DELETE') {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      faults.clear(q.get('provider') ?? undefined, q.get('model') ?? undefined);
      return json(res, 200, { faults: faults.list() });
    }
    if (path === '/admin/stats' && req.method === 'GET') return json(res, 200, { counts: Object.fromEntries(counts) });
    if (path === '/admin/stats' && req.method === 'DELETE') {
      counts.clear();
      return json(res, 200, { counts: {} });
    }
    return json(res, 404, { error: { message: `no admin route ${req.method} ${path}`, type: 'not_found_error', code: 'not_found' } });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path.startsWith('/admin/')) {
      if (opts.adminToken !== undefined && req.headers.authorization !== `Bearer ${opts.adminToken}`) {
        return json(res, 401, {
          error: { message: 'the fault admin needs "Authorization: Bearer <SIMULATOR_ADMIN_TOKEN>"', type: 'authentication_error', code: 'invalid_api_key' },
        });
      }
      return handleAdmin(req, res, path);
    }
    const m = /^\/([a-z0-9-]+)\/v1\/(chat\/completions|messages)$/.exec(path);
    if (!m || req.method !== 'POST') return json(res, 404, providerError('openai', 404, `no route ${req.method} ${path}`));
    const provider = m[1];
    const api = m[2] === 'messages' ? 'anthropic' : 'openai';
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return json(res, 400, providerError(api, 400, 'request body is not JSON'));
    }
    const endpoint = index.get(`${provider}|${String(body.model)}`);
    if (!endpoint) return json(res, 404, providerError(api, 404, `model ${String(body.model)} is not served by ${provider}`));
    if (!Array.isArray(body.messages) || body.messages.length === 0) return json(res, 400, providerError(api, 400, 'messages must be a non-empty array'));
    counts.set(endpoint.id, (counts.get(endpoint.id) ?? 0) + 1);

    const prompt = promptTokens(body.messages as { content?: unknown }[], api === 'anthropic' ? body.system : undefined);
    if (prompt > endpoint.contextLength) return json(res, 400, providerError(api, 400, `prompt of ${prompt} tokens exceeds context length ${endpoint.contextLength}`));
    const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : undefined;
    const fault = faults.pick(provider, endpoint.model);
    const lat = drawLatency(endpoint.ttftMs, endpoint.tokensPerSecond, scale);
    const slowFirst = fault?.mode === 'latency' ? (fault.multiplier ?? 10) : 1;
    const slowDecode = fault?.mode === 'slow_stream' ? (fault.multiplier ?? 20) : slowFirst;
    // A zero-delay simulator still has to show a slowed endpoint as slower than the rest.
    const structured = structuredAnswer(body, api);
    // Extended thinking comes out of max_tokens, as on the Messages API.
    const budget =
      (body.thinking as { type?: unknown; budget_tokens?: unknown } | undefined)?.type === 'enabled' ? Number((body.thinking as { budget_tokens?: unknown }).budget_tokens) : 0;
    const thinking = api === 'anthropic' && budget > 0 ? Math.min(budget, THINKING_CAP) : 0;
    const room = maxTokens === undefined ? undefined : Math.max(1, maxTokens - thinking);
    const plan: Plan = {
      endpoint,
      stream: body.stream === true,
      prompt,
      structured,
      thinking,
      completion: structured ? Math.min(structuredTokens(structured), room ?? Infinity) : completionLength(prompt, room),
      fault,
      ttftMs: Math.max(lat.ttftMs * slowFirst, scale === 0 && slowFirst > 1 ? slowFirst : 0),
      msPerToken: Math.max(lat.msPerToken * slowDecode, scale === 0 && slowDecode > 1 ? slowDecode / 100 : 0),
    };
    if (applyBlockingFault(plan, res, api)) return;
    await (plan.stream ? answerStream(plan, res, api) : answerWhole(plan, res, api));
  }

  const sockets = new Set<Socket>();
  const server: Server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) json(res, 500, providerError('openai', 500, `simulator failure: ${(err as Error).message}`));
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    faults,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
