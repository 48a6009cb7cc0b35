import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import { SAMPLE_CATEGORIES, SAMPLE_CITIES } from '../../sample/catalogue.ts';

const WIDGETS_DIR = path.resolve(import.meta.dirname, '../../widgets');

/** The widget bundle as served: read once, with an ETag so browsers revalidate cheaply. */
const bundle = readFileSync(path.join(WIDGETS_DIR, 'coupon-widgets.js'), 'utf8');
const bundleTag = `"${createHash('sha256').update(bundle).digest('base64url').slice(0, 16)}"`;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The demo page, filled with the sample catalogue's categories, cities and shoppers. */
function demoPage(): string {
  return readFileSync(path.join(WIDGETS_DIR, 'demo.html'), 'utf8')
    .replace('<!-- categories -->', escapeHtml(SAMPLE_CATEGORIES.join(',')))
    .replace('<!-- cities -->', SAMPLE_CITIES.map((c) => `<option value="${c.lat},${c.lon}">${escapeHtml(c.name)}</option>`).join(''))
    .replace(
      '<!-- shoppers -->',
      Array.from({ length: 8 }, (_, i) => `shopper-${String(i + 1).padStart(4, '0')}`)
        .map((id) => `<option>${id}</option>`)
        .join(''),
    );
}

export function widgetRoutes(router: Router): void {
  /** Public static code: any page may load it (module scripts are fetched with CORS). */
  router.get('/widgets/v1.js', (ctx) => {
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.set('ETag', bundleTag);
    if (ctx.get('if-none-match') === bundleTag) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = bundle;
  });

  const page = demoPage();
  router.get('/demo', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page;
  });
}
