// Scores with their intervals on a horizontal value axis, one row per model: each interval a segment from
// its low to its high end (a line series of two points), wherever zero falls. Stacked bars (a transparent
// base up to the low end) cannot float a bar that starts below zero: ECharts stacks negatives downward.

export interface ScoredInterval {
  model: string;
  score: number;
  low: number;
  high: number;
}

export function intervalSeries(scores: readonly ScoredInterval[], colorOf: (model: string) => string): Record<string, unknown>[] {
  return [
    ...scores.map((s) => ({
      type: 'line',
      name: '95% interval',
      data: [
        [s.low, s.model],
        [s.high, s.model],
      ],
      symbol: 'none',
      silent: true,
      lineStyle: { width: 8, color: '#94a3b8', cap: 'round' },
      z: 1,
    })),
    { type: 'scatter', name: 'score', symbolSize: 12, z: 2, data: scores.map((s) => ({ value: [s.score, s.model], itemStyle: { color: colorOf(s.model) } })) },
  ];
}
