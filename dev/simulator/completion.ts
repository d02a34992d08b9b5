// Fabricated completions in both wire formats. Token counts follow core/tokens.ts, so that usage, cost
// and context checks behave like they would against a real provider.

const WORDS = (
  'the of and to in is that for it as with was on be by this are from at an or which have not ' +
  'model router token stream latency provider request answer value result system data code price share fast'
).split(' ');

/** How many tokens to produce: bounded by max_tokens, otherwise a length that depends on the prompt. */
export function completionLength(prompt: number, maxTokens: number | undefined): number {
  const natural = 8 + ((prompt * 7919) % 120);
  return Math.max(1, Math.min(natural, maxTokens ?? natural));
}

/** Token `i` of a completion (a word with its leading space). */
export const tokenText = (i: number): string => (i === 0 ? 'Sure' : ` ${WORDS[(i * 31) % WORDS.length]}`);

export function completionText(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += tokenText(i);
  return s;
}
