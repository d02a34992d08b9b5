import { describe, expect, it } from 'vitest';
import { promptTokens } from '../../core/tokens.ts';
import type { ChatMessage } from '../../router/chat-schema.ts';
import { middleOut, withMiddleOut } from '../../router/routing/middle-out.ts';

const text = (n: number, tag: string) => `${tag} `.padEnd(n * 4 - 4, 'x'); // about n tokens with its framing
const conversation = (turns: number): ChatMessage[] => [
  { role: 'system', content: text(50, 'system') },
  ...Array.from({ length: turns }, (_, i) => ({ role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), content: text(100, `turn-${i}`) })),
];

describe('middle-out', () => {
  it('leaves a conversation that fits alone', () => {
    const m = conversation(4);
    expect(middleOut(m, promptTokens(m))).toEqual({ messages: m, removedMessages: 0, removedTokens: 0 });
  });

  it('takes turns from the middle, keeping the opening and the latest turns, until it fits', () => {
    const m = conversation(20);
    const cut = middleOut(m, 1000);
    expect(promptTokens(cut.messages)).toBeLessThanOrEqual(1000);
    expect(cut.removedMessages).toBe(m.length - cut.messages.length);
    expect(cut.removedTokens).toBe(promptTokens(m) - promptTokens(cut.messages));
    const tags = cut.messages.map((x) => String(x.content).split(' ')[0]);
    expect(tags.slice(0, 2)).toEqual(['system', 'turn-0']);
    expect(tags.at(-1)).toBe('turn-19');
    // What is left keeps its order, and what went is one run from the middle: both ends stay.
    const kept = tags.slice(1).map((t) => Number(t.split('-')[1]));
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    const gone = Array.from({ length: 20 }, (_, i) => i).filter((i) => !kept.includes(i));
    expect(gone.at(-1)! - gone[0]).toBe(gone.length - 1);
    expect(gone[0]).toBeGreaterThan(0);
    expect(gone.at(-1)).toBeLessThan(19);
  });

  it('never separates tool results from the call they answer', () => {
    const m: ChatMessage[] = [
      { role: 'user', content: text(100, 'q') },
      ...Array.from({ length: 6 }, (_, i): ChatMessage[] => [
        { role: 'assistant', content: null, tool_calls: [{ id: `call_${i}`, type: 'function' }] },
        { role: 'tool', tool_call_id: `call_${i}`, content: text(200, `result-${i}`) },
      ]).flat(),
      { role: 'user', content: text(50, 'last') },
    ];
    const cut = middleOut(m, 800);
    expect(cut.removedMessages).toBeGreaterThan(0);
    cut.messages.forEach((x, i) => {
      if (x.role === 'tool') expect(cut.messages[i - 1].role === 'tool' || cut.messages[i - 1].tool_calls !== undefined).toBe(true);
    });
  });

  it('leaves the request unchanged when even the opening and last turn do not fit', () => {
    const m = conversation(3);
    expect(middleOut(m, 100).removedMessages).toBe(0);
  });

  it('applies only when the request asks for it, within the largest context less the completion', () => {
    const messages = conversation(40);
    expect(withMiddleOut({ messages }, [2000], 100).applied).toBeUndefined();
    const { req, applied } = withMiddleOut({ messages, transforms: ['middle-out'] }, [1000, 2000], 500);
    expect(applied?.removedMessages).toBeGreaterThan(0);
    expect(promptTokens(req.messages)).toBeLessThanOrEqual(1500);
  });
});
