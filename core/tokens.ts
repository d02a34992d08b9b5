// Token estimates and the max_tokens rule, for every part that needs them before a provider has counted:
// routing (context checks), spend reservations, the simulator's usage. About four characters per token,
// as providers' tokenizers give on English text.

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

interface MessageLike {
  role?: unknown;
  content?: unknown;
}

/** Text of a message's content, whether a string or an array of typed parts. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return '';
}

/** The prompt's tokens: each message's text plus four for its framing. */
export function promptTokens(messages: readonly MessageLike[], system?: unknown): number {
  let n = system === undefined ? 0 : estimateTokens(contentText(system)) + 4;
  for (const m of messages) n += estimateTokens(contentText(m.content)) + 4;
  return n;
}

/** The completion limit a request asks for: `max_completion_tokens` (OpenAI's newer name) wins over `max_tokens`. */
export function requestedMaxTokens(req: { max_tokens?: number; max_completion_tokens?: number }): number | undefined {
  return req.max_completion_tokens ?? req.max_tokens;
}
