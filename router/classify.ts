// A cheap rule-based category for requests that declare none: a few regular expressions over the last
// user message, evaluated in the router. Only the resulting label is kept; the text is never stored.

export const CATEGORIES = ['programming', 'roleplay', 'translation', 'marketing', 'science', 'finance', 'legal', 'health', 'academia', 'general'] as const;
export type Category = (typeof CATEGORIES)[number];

const RULES: [Category, RegExp][] = [
  [
    'programming',
    /```|\b(const|let|var)\s+\w+\s*=|\bdef\s+\w+\(|\bclass\s+\w+\s*[:({]|\bimport\s+[\w{*]|\b(function|stack ?trace|exception|compiler?|regex|sql|typescript|python|javascript|rust|golang|java|c\+\+|refactor|unit tests?|segfault|null pointer)\b/i,
  ],
  ['translation', /\b(translate|translation|in (french|spanish|german|chinese|japanese|italian|portuguese|korean|russian))\b|翻译|traduire|traducir/i],
  ['roleplay', /\b(role-?play|you are (a|an|my) |stay in character|pretend to be|\*[a-z]+s\*)/i],
  ['marketing', /\b(marketing|seo|ad copy|slogan|campaign|landing page|newsletter|brand)\b/i],
  ['finance', /\b(stock|portfolio|invest|revenue|balance sheet|ebitda|crypto|interest rate|tax)\b/i],
  ['legal', /\b(contract|clause|lawsuit|legal|statute|gdpr|liability|attorney)\b/i],
  ['health', /\b(symptom|diagnos|medication|dosage|patient|clinical|disease)\b/i],
  ['science', /\b(physics|chemistry|biology|quantum|molecule|equation|theorem|experiment)\b/i],
  ['academia', /\b(essay|thesis|citation|literature review|abstract|dissertation|homework)\b/i],
];

export function classify(lastUserText: string): Category {
  const sample = lastUserText.length > 4000 ? lastUserText.slice(0, 4000) : lastUserText;
  for (const [category, re] of RULES) if (re.test(sample)) return category;
  return 'general';
}

export const isCategory = (s: string): s is Category => (CATEGORIES as readonly string[]).includes(s);
