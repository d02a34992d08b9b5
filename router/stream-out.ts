// Server-sent events to the client, in OpenAI's chunk format with our additions (provider, generation id).
import type { ServerResponse } from 'node:http';
import type { ToolCall } from './upstream/types.ts';

export class SseOut {
  private closed = false;

  constructor(
    private readonly raw: ServerResponse,
    private readonly base: { id: string; created: number; model: string; provider: string },
    /** The legacy completions API's chunks (`choices[].text`) instead of chat deltas. */
    private readonly text = false,
  ) {}

  open(headers: Record<string, string | number | string[]>): void {
    this.raw.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  }

  get gone(): boolean {
    return this.closed || this.raw.destroyed;
  }

  /** Write one chunk; waits for the socket to drain so a slow client cannot balloon memory. */
  async chunk(delta: { role?: 'assistant'; content?: string; tool_calls?: ToolCall[] }, finishReason: string | null, extra: Record<string, unknown> = {}): Promise<void> {
    const choice = this.text
      ? { index: 0, text: delta.content ?? '', finish_reason: finishReason, logprobs: null }
      : { index: 0, delta, finish_reason: finishReason, logprobs: null };
    await this.write({ ...this.base, object: this.object, ...extra, choices: [choice] });
  }

  async usage(usage: Record<string, unknown>): Promise<void> {
    await this.write({ ...this.base, object: this.object, choices: [], usage });
  }

  private get object(): string {
    return this.text ? 'text_completion' : 'chat.completion.chunk';
  }

  async write(payload: unknown): Promise<void> {
    if (this.gone) return;
    if (!this.raw.write(`data: ${JSON.stringify(payload)}\n\n`)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.raw.off('drain', done);
          this.raw.off('close', done);
          resolve();
        };
        this.raw.once('drain', done);
        this.raw.once('close', done);
      });
    }
  }

  end(): void {
    if (this.gone) return;
    this.closed = true;
    this.raw.end('data: [DONE]\n\n');
  }
}
