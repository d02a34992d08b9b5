// ECharts, tree-shaken: only the chart kinds and components these pages use. Every chart sits in a card
// with loading, empty and error states; tooltips render as rich text on the canvas, never as HTML, so
// names from the data cannot inject markup.
import * as echarts from 'echarts/core';
import { BarChart, LineChart, SankeyChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, DataZoomComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { EChartsCoreOption } from 'echarts/core';
import { clear, h } from './dom.ts';

echarts.use([BarChart, LineChart, SankeyChart, ScatterChart, GridComponent, LegendComponent, TooltipComponent, DataZoomComponent, CanvasRenderer]);

export type Option = EChartsCoreOption;

export const isDark = () => document.documentElement.dataset.theme === 'dark';

const live = new Set<echarts.ECharts>();
window.addEventListener('resize', () => {
  for (const c of live) c.resize();
});

/** Charts of the page being left: disposed, so a long session does not pile up canvases. */
export function disposeCharts(): void {
  for (const c of live) c.dispose();
  live.clear();
}

export interface ChartCard {
  el: HTMLElement;
  loading(): void;
  empty(message: string): void;
  error(message: string): void;
  render(option: Option): void;
}

export function chartCard(title: string, opts: { height?: number; note?: string; wide?: boolean } = {}): ChartCard {
  const body = h('div', { class: 'chart-body', style: `height:${opts.height ?? 320}px` });
  const el = h('section', { class: `card${opts.wide ? ' wide' : ''}`, 'aria-label': title }, h('h2', {}, title), opts.note ? h('p', { class: 'note' }, opts.note) : null, body);
  let chart: echarts.ECharts | undefined;
  const state = (cls: string, text: string) => {
    chart?.dispose();
    if (chart) live.delete(chart);
    chart = undefined;
    clear(body);
    body.appendChild(h('div', { class: `state ${cls}`, role: cls === 'error' ? 'alert' : 'status' }, text));
    body.dataset.state = cls;
  };
  return {
    el,
    loading: () => state('loading', 'Loading…'),
    empty: (m) => state('empty', m),
    error: (m) => state('error', `Could not load: ${m}`),
    render: (option) => {
      if (!chart) {
        clear(body);
        chart = echarts.init(body, isDark() ? 'dark' : undefined, { renderer: 'canvas' });
        live.add(chart);
      }
      body.dataset.state = 'ready';
      const tooltip = { renderMode: 'richText', confine: true, ...((option as { tooltip?: object }).tooltip ?? {}) };
      chart.setOption({ backgroundColor: 'transparent', animationDuration: 300, ...option, tooltip }, true);
    },
  };
}

/** Stable colours per name, so a model keeps its colour across charts. */
const PALETTE = [
  '#4f46e5',
  '#0ea5e9',
  '#10b981',
  '#f59e0b',
  '#ef4444',
  '#8b5cf6',
  '#14b8a6',
  '#f97316',
  '#84cc16',
  '#ec4899',
  '#6366f1',
  '#22c55e',
  '#eab308',
  '#06b6d4',
  '#a855f7',
  '#64748b',
];
export function colorOf(name: string): string {
  let x = 0;
  for (let i = 0; i < name.length; i++) x = (x * 31 + name.charCodeAt(i)) >>> 0;
  return PALETTE[x % PALETTE.length];
}
