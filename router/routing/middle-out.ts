// OpenRouter's `transforms: ["middle-out"]`: a conversation longer than the largest context among the
// requested models' endpoints loses turns from its middle until it fits, keeping the opening (system
// messages and the first turn) and the latest turns, where instructions and the question usually are.
// A turn is a message, or an assistant message with tool calls together with the tool results answering it,
// so no tool result is left without its call.
import { promptTokens } from '../../core/tokens.ts';
import type { ChatMessage } from '../chat-schema.ts';

export interface MiddleOut {
  messages: ChatMessage[];
  /** Messages taken out, and the prompt tokens they held (by the router's estimate). */
  removedMessages: number;
  removedTokens: number;
}

function turnsOf(messages: ChatMessage[]): ChatMessage[][] {
  const turns: ChatMessage[][] = [];
  for (const m of messages) {
    const last = turns.at(-1);
    if (m.role === 'tool' && last !== undefined) last.push(m);
    else turns.push([m]);
  }
  return turns;
}

/** The messages cut to `budget` prompt tokens from the middle; unchanged when they fit or cannot be made to. */
export function middleOut(messages: ChatMessage[], budget: number): MiddleOut {
  const before = promptTokens(messages);
  if (before <= budget) return { messages, removedMessages: 0, removedTokens: 0 };
  const turns = turnsOf(messages);
  // The opening: every leading system or developer message, and the first turn after them.
  let head = 0;
  while (head < turns.length && (turns[head][0].role === 'system' || turns[head][0].role === 'developer')) head++;
  head = Math.min(head + 1, turns.length);
  const kept = [...turns];
  let size = before;
  // Out from the middle of what may go, always keeping the last turn.
  while (size > budget && kept.length - head > 1) {
    const middle = head + Math.floor((kept.length - 1 - head) / 2);
    const [gone] = kept.splice(middle, 1);
    size -= promptTokens(gone);
  }
  if (size > budget) return { messages, removedMessages: 0, removedTokens: 0 };
  const out = kept.flat();
  return { messages: out, removedMessages: messages.length - out.length, removedTokens: before - size };
}

/**
 * The request with middle-out applied when it asks for it: the budget is the largest context among the
 * requested models' endpoints less the completion it asks for. `applied` is set when turns were taken out.
 */
export function withMiddleOut<R extends { messages: ChatMessage[]; transforms?: string[] }>(
  req: R,
  contextLengths: readonly number[],
  maxTokens: number | undefined,
): { req: R; applied: MiddleOut | undefined } {
  if (!req.transforms?.includes('middle-out') || contextLengths.length === 0) return { req, applied: undefined };
  const cut = middleOut(req.messages, Math.max(...contextLengths) - (maxTokens ?? 0));
  return cut.removedMessages === 0 ? { req, applied: undefined } : { req: { ...req, messages: cut.messages }, applied: cut };
}
