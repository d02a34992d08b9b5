// The public pages: a hash router over five pages, light and dark themes.
import './style.css';
import { disposeCharts } from './charts.ts';
import { modelPage, modelsIndex } from './pages/model.ts';
import { preferencePage } from './pages/preference.ts';
import { rankingsPage } from './pages/rankings.ts';
import { statusPage } from './pages/status.ts';
import { usagePage } from './pages/usage.ts';
import { message } from './ui.ts';

const app = document.getElementById('app')!;
let leave: (() => void) | undefined;

const THEME = 'switchboard.theme';
function applyTheme(t: string): void {
  document.documentElement.dataset.theme = t;
}
applyTheme(localStorage.getItem(THEME) ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
document.getElementById('theme')!.addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem(THEME, next);
  applyTheme(next);
  render(); // charts take their theme when created
});

function render(): void {
  leave?.();
  leave = undefined;
  disposeCharts();
  app.replaceChildren();
  const hash = location.hash.replace(/^#\/?/, '') || 'rankings';
  const [path, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').map(decodeURIComponent);
  const go = (p: Record<string, string>) => {
    const q = new URLSearchParams(Object.entries(p).filter(([, v]) => v !== '')).toString();
    location.hash = `#/${parts[0]}${q ? `?${q}` : ''}`;
  };
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    const on = a.dataset.page === parts[0] || (a.dataset.page === 'models' && parts[0] === 'model');
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  switch (parts[0]) {
    case 'rankings':
      rankingsPage(app, params, go);
      break;
    case 'preference':
      preferencePage(app, params, go);
      break;
    case 'models':
      modelsIndex(app);
      break;
    case 'model':
      modelPage(app, parts.slice(1).join('/'));
      break;
    case 'status':
      leave = statusPage(app, params, go);
      break;
    case 'usage':
      usagePage(app);
      break;
    default:
      app.append(message('empty', 'No such page. Try Rankings.'));
  }
  document.title = `Switchboard — ${parts[0] === 'model' ? parts.slice(1).join('/') : parts[0]}`;
}

window.addEventListener('hashchange', () => {
  render();
  app.focus({ preventScroll: true });
});
render();
