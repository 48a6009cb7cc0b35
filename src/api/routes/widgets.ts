import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { widgetBundle } from '../../widgets/bundle.ts';
import { type DemoContent, errorResponses, type RouteSpec } from '../route.ts';

const WIDGETS_DIR = path.resolve(import.meta.dirname, '../../widgets');

/** The widget bundle as served: read once, with an ETag so browsers revalidate cheaply. */
const bundle = widgetBundle();
const bundleTag = `"${createHash('sha256').update(bundle).digest('base64url').slice(0, 16)}"`;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const demoTemplate = readFileSync(path.join(WIDGETS_DIR, 'demo.html'), 'utf8');
const dashboardPage = readFileSync(path.join(WIDGETS_DIR, 'dashboard.html'), 'utf8');
const demoPages = new WeakMap<DemoContent, string>();
const NO_DEMO: DemoContent = { categories: [], cities: [], shoppers: [] };

/** The demo page, filled with the catalogue's categories, cities and sample shoppers. */
function demoPage(content: DemoContent): string {
  let page = demoPages.get(content);
  if (!page) {
    page = demoTemplate
      .replace('<!-- categories -->', escapeHtml(content.categories.join(',')))
      .replace('<!-- cities -->', content.cities.map((c) => `<option value="${c.lat},${c.lon}">${escapeHtml(c.name)}</option>`).join(''))
      .replace('<!-- shoppers -->', content.shoppers.map((id) => `<option>${escapeHtml(id)}</option>`).join(''));
    demoPages.set(content, page);
  }
  return page;
}

export const widgetRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/widgets/v1.js',
    scope: undefined,
    summary: 'The web components bundle',
    responses: { 200: { description: 'ES module', content: { 'text/javascript': { schema: { type: 'string' } } } }, 304: { description: 'not modified' } },
    /** Public static code: any page may load it (module scripts are fetched with CORS). */
    handle(ctx) {
      ctx.set('Access-Control-Allow-Origin', '*');
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.set('ETag', bundleTag);
      if (ctx.get('if-none-match') === bundleTag) {
        ctx.status = 304;
        return;
      }
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.body = bundle;
    },
  },
  {
    method: 'GET',
    path: '/demo',
    scope: undefined,
    summary: 'The demo page',
    responses: { 200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
    handle(ctx, { demo }) {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = demoPage(demo ?? NO_DEMO);
    },
  },
  {
    method: 'GET',
    path: '/dashboard',
    // Business data: the page itself needs the analytics scope (open it with ?api_key=…, which it passes on).
    scope: 'analytics',
    summary: 'The analytics dashboard (no build step; charts from /v1/analytics)',
    params: [{ name: 'api_key', in: 'query', schema: { type: 'string' }, description: 'a key with the analytics scope' }],
    responses: { 200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } }, ...errorResponses(401, 403) },
    handle(ctx) {
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = dashboardPage;
    },
  },
];
