// The pairwise chart's intervals: each drawn from its low to its high end, below zero as well as above.
import { describe, expect, it } from 'vitest';
import { intervalSeries } from '../../web/src/intervals.ts';

describe('pairwise chart intervals', () => {
  it('spans low to high on the model’s row, negative scores included, with the score as a point', () => {
    const scores = [
      { model: 'a/neg', score: -1.2, low: -2.5, high: -0.4 },
      { model: 'b/across', score: 0.1, low: -0.6, high: 0.9 },
      { model: 'c/pos', score: 1.5, low: 0.8, high: 2.2 },
    ];
    const series = intervalSeries(scores, () => '#000');
    const lines = series.filter((s) => s.type === 'line');
    expect(lines.map((s) => s.data)).toEqual(
      scores.map((s) => [
        [s.low, s.model],
        [s.high, s.model],
      ]),
    );
    expect(lines.some((s) => 'stack' in s)).toBe(false);
    const points = series.find((s) => s.type === 'scatter')!.data as { value: [number, string] }[];
    expect(points.map((p) => p.value)).toEqual(scores.map((s) => [s.score, s.model]));
  });
});
