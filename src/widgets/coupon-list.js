// Coupon widgets: framework-free web components, served by the API at /widgets/v1.js.
//
//   <script type="module" src="https://search.example.com/widgets/v1.js"></script>
//   <coupon-search user-id="u-42"></coupon-search>
//   <coupon-similar coupon-id="cpn-000004" limit="4"></coupon-similar>
//   <coupon-for-you user-id="u-42" lat="40.71" lon="-74.0"></coupon-for-you>
//
// Attributes common to all: api (base URL; default: where this file was loaded from), user-id
// (for personal ranking and events; default: an anonymous id kept in localStorage), limit, lat,
// lon, href (a link template such as "/coupons/{id}"; default: cards are buttons), explain,
// api-key (a key with the search and events scopes, when the API requires keys; it is sent as
// the api_key parameter so requests stay simple and beacons work: use a public, read-only key).
// Each card dispatches a bubbling `coupon-select` event ({detail: {id, coupon}}) when chosen.
// Theme with CSS custom properties on the element or any ancestor: --coupon-accent, --coupon-bg,
// --coupon-fg, --coupon-muted, --coupon-card-bg, --coupon-radius, --coupon-font.
// Impressions and clicks go to POST /v1/events in batches, with navigator.sendBeacon on page hide.
// Plain JavaScript on purpose: no build step, no runtime dependencies. The API serves this file and
// search-box.js concatenated as one small module (src/widgets/bundle.ts); the search box's class
// lives in the second file and uses what this one defines.

const DEFAULT_API = new URL('..', import.meta.url).href.replace(/\/$/, '');

/** Events waiting to be sent, per API base; flushed every 2 s, at 20 events, and on page hide. */
const outbox = new Map();
let flushTimer;

function anonymousId() {
  try {
    let id = localStorage.getItem('coupon-widgets-anon');
    if (!id) localStorage.setItem('coupon-widgets-anon', (id = `anon-${randomId()}`));
    return id;
  } catch {
    return `anon-${randomId()}`; // storage blocked: an id for this page view
  }
}

function randomId() {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

function report(api, event) {
  // `api` here is the events endpoint's base, with the key when there is one.
  const list = outbox.get(api) ?? [];
  list.push({ event_id: `w-${randomId()}`, ts: new Date().toISOString(), ...event });
  outbox.set(api, list);
  if (list.length >= 20) flush(false);
  else flushTimer ??= setTimeout(() => flush(false), 2000);
}

function flush(unloading) {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  for (const [api, events] of outbox) {
    outbox.delete(api);
    for (let i = 0; i < events.length; i += 1000) {
      // text/plain keeps a cross-origin beacon a "simple" request (no preflight), which sendBeacon needs.
      const body = JSON.stringify({ events: events.slice(i, i + 1000) });
      const [base, key] = api.split('#key=');
      const url = `${base}/v1/events${key ? `?api_key=${encodeURIComponent(key)}` : ''}`;
      if (unloading && navigator.sendBeacon?.(url, new Blob([body], { type: 'text/plain' }))) continue;
      fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/plain' }, keepalive: true, mode: 'cors' }).catch(() => undefined);
    }
  }
}

addEventListener('pagehide', () => flush(true));
document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && flush(true));

const STYLE = `
:host { display: block; font-family: var(--coupon-font, system-ui, sans-serif); color: var(--coupon-fg, #1a1a1a); background: var(--coupon-bg, transparent); }
.bar { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: .75rem; }
label { display: flex; flex-direction: column; font-size: .8rem; gap: .2rem; color: var(--coupon-muted, #4a4a4a); }
input, select { font: inherit; font-size: 1rem; padding: .45rem .6rem; border: 1px solid #767676; border-radius: 6px; color: inherit; background: #fff; }
input { min-width: 16rem; }
input:focus-visible, select:focus-visible, .card:focus-visible, button:focus-visible { outline: 3px solid var(--coupon-accent, #0b57d0); outline-offset: 2px; }
ul { list-style: none; margin: 0; padding: 0; display: grid; gap: .75rem; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); }
li { display: flex; flex-direction: column; }
.card { display: block; flex: 1; width: 100%; box-sizing: border-box; text-align: left; font: inherit; color: inherit; text-decoration: none; cursor: pointer;
  background: var(--coupon-card-bg, #fff); border: 1px solid #d0d0d0; border-radius: var(--coupon-radius, 10px); padding: .8rem; }
.card:hover { border-color: var(--coupon-accent, #0b57d0); }
.discount { display: inline-block; font-weight: 700; color: #fff; background: var(--coupon-accent, #0b57d0); border-radius: 4px; padding: .1rem .4rem; font-size: .85rem; }
.title { display: block; font-weight: 600; margin: .4rem 0 .2rem; font-size: 1rem; }
.title mark { background: var(--cs-mark, #fff3a3); color: inherit; }
.meta { display: block; font-size: .85rem; color: var(--coupon-muted, #4a4a4a); }
.state { padding: .8rem; color: var(--coupon-muted, #4a4a4a); }
.error { color: #a50e0e; }
.error button { margin-left: .5rem; font: inherit; padding: .2rem .6rem; }
details { font-size: .75rem; margin-top: .4rem; }
pre { white-space: pre-wrap; word-break: break-word; max-height: 14rem; overflow: auto; }
.hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.combo { position: relative; display: block; }
[role=listbox] { position: absolute; z-index: 2; left: 0; right: 0; display: block; margin-top: .2rem; background: #fff; border: 1px solid #767676; border-radius: 6px; box-shadow: 0 4px 12px #0002; }
[role=listbox][hidden] { display: none; }
[role=option] { padding: .4rem .6rem; cursor: pointer; color: var(--coupon-fg, #1a1a1a); font-size: .95rem; }
[role=option][aria-selected=true], [role=option]:hover { background: #e8f0fe; }
[role=option] .kind { color: var(--coupon-muted, #4a4a4a); font-size: .8rem; }
`;

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The text with the given [start, end) ranges in <mark>, every piece escaped (no markup gets through). */
function markRanges(text, ranges = []) {
  let out = '';
  let at = 0;
  for (const [a, b] of ranges) {
    if (a < at || b > text.length) continue;
    out += `${escapeHtml(text.slice(at, a))}<mark>${escapeHtml(text.slice(a, b))}</mark>`;
    at = b;
  }
  return out + escapeHtml(text.slice(at));
}

function expiryText(until) {
  const days = Math.ceil((Date.parse(until) - Date.now()) / 86_400_000);
  if (days <= 0) return 'ends today';
  if (days === 1) return 'ends tomorrow';
  if (days <= 14) return `ends in ${days} days`;
  return `ends ${new Date(until).toLocaleDateString(undefined, { month: 'short', day: 'numeric' })}`;
}

/** What the three widgets share: fetching, the loading / empty / error states, cards, events. */
class CouponList extends HTMLElement {
  static observedAttributes = ['api', 'api-key', 'user-id', 'limit', 'lat', 'lon', 'explain'];

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.root.innerHTML = `<style>${STYLE}</style>${this.controls()}<div class="status" role="status" aria-live="polite"></div><ul part="list"></ul>`;
    this.list = this.root.querySelector('ul[part=list]');
    this.status = this.root.querySelector('.status');
    this.requestNo = 0;
  }

  get api() {
    return (this.getAttribute('api') || DEFAULT_API).replace(/\/$/, '');
  }
  get eventsTarget() {
    return this.getAttribute('api-key') ? `${this.api}#key=${this.getAttribute('api-key')}` : this.api;
  }
  get userId() {
    return this.getAttribute('user-id') || anonymousId();
  }
  get limit() {
    return Math.min(100, Math.max(1, Number(this.getAttribute('limit')) || 6));
  }

  controls() {
    return '';
  }

  connectedCallback() {
    this.load();
  }
  attributeChangedCallback() {
    if (this.isConnected) this.load();
  }

  /** The request URL for the current attributes, or undefined when there is nothing to ask. */
  url() {
    return undefined;
  }

  params(extra = {}) {
    const p = new URLSearchParams({ limit: String(this.limit), ...extra });
    for (const a of ['lat', 'lon']) if (this.getAttribute(a)) p.set(a, this.getAttribute(a));
    if (this.hasAttribute('explain')) p.set('explain', 'true');
    if (this.getAttribute('api-key')) p.set('api_key', this.getAttribute('api-key'));
    return p;
  }

  async load() {
    const url = this.url();
    const no = ++this.requestNo;
    if (!url) return this.show('idle');
    this.show('loading');
    try {
      const res = await fetch(url, { headers: { accept: 'application/json' }, mode: 'cors' });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.error?.message || `HTTP ${res.status}`);
      if (no === this.requestNo) this.render(body);
    } catch (error) {
      if (no === this.requestNo) this.show('error', error.message);
    }
  }

  show(state, message = '') {
    this.setAttribute('aria-busy', String(state === 'loading'));
    this.dataset.state = state;
    if (state !== 'results') this.list.replaceChildren();
    const text = { idle: '', loading: 'Loading coupons…', empty: 'No coupons match.', error: 'Could not load coupons.' }[state] ?? '';
    this.status.className = `status state ${state === 'error' ? 'error' : ''}`;
    this.status.setAttribute('role', state === 'error' ? 'alert' : 'status');
    this.status.innerHTML = state === 'error' ? `${text} <span class="hidden">${escapeHtml(message)}</span><button type="button">Retry</button>` : text;
    this.status.querySelector('button')?.addEventListener('click', () => this.load());
  }

  render(body) {
    if (!body.results?.length) return this.show('empty');
    this.show('results');
    this.status.textContent = `${body.results.length} coupons`;
    this.status.className = 'status hidden';
    const href = this.getAttribute('href');
    this.list.innerHTML = body.results
      .map((r, i) => {
        const c = r.coupon;
        const meta = [
          c.merchant.name,
          expiryText(c.valid_until),
          r.distance_km !== undefined ? `${r.distance_km.toFixed(1)} km away` : c.online ? 'online' : '',
        ]
          .filter(Boolean)
          .map(escapeHtml)
          .join(' · ');
        const inner = `<span class="discount">${escapeHtml(r.discount_label)}</span><span class="title">${markRanges(c.title, r.highlight?.title)}</span><span class="meta">${meta}</span>`;
        const tag = href ? `a href="${escapeHtml(href.replace('{id}', encodeURIComponent(r.id)))}"` : 'button type="button"';
        const explain = r.explain ? `<details><summary>Why this result</summary><pre>${escapeHtml(JSON.stringify(r.explain, null, 1))}</pre></details>` : '';
        return `<li><${tag} class="card" data-i="${i}" data-id="${escapeHtml(r.id)}" aria-label="${escapeHtml(`${r.discount_label}: ${c.title}, ${c.merchant.name}`)}">${inner}</${tag.split(' ')[0]}>${explain}</li>`;
      })
      .join('');
    const base = { user_id: this.userId, query_id: body.query_id };
    body.results.forEach((r, i) => report(this.eventsTarget, { ...base, coupon_id: r.id, type: 'impression', position: body.offset + i }));
    this.list.querySelectorAll('.card').forEach((card) =>
      card.addEventListener('click', () => {
        const r = body.results[Number(card.dataset.i)];
        report(this.eventsTarget, { ...base, coupon_id: r.id, type: 'click', position: body.offset + Number(card.dataset.i) });
        this.dispatchEvent(new CustomEvent('coupon-select', { bubbles: true, composed: true, detail: { id: r.id, coupon: r.coupon } }));
      }),
    );
  }
}

/** Coupons similar to `coupon-id` (mode: content | behavior | blend). */
class CouponSimilar extends CouponList {
  static observedAttributes = [...CouponList.observedAttributes, 'coupon-id', 'mode'];
  url() {
    const id = this.getAttribute('coupon-id');
    return (
      id && `${this.api}/v1/coupons/${encodeURIComponent(id)}/similar?${this.params({ mode: this.getAttribute('mode') || 'content', user_id: this.userId })}`
    );
  }
}

/** A user's "for you" feed (radius-km and category narrow it). */
class CouponForYou extends CouponList {
  static observedAttributes = [...CouponList.observedAttributes, 'radius-km', 'category'];
  url() {
    const p = this.params();
    if (this.getAttribute('radius-km') && p.has('lat')) p.set('radius_km', this.getAttribute('radius-km'));
    if (this.getAttribute('category')) p.set('category', this.getAttribute('category'));
    return `${this.api}/v1/users/${encodeURIComponent(this.userId)}/recommendations?${p}`;
  }
}

for (const [name, cls] of [
  ['coupon-similar', CouponSimilar],
  ['coupon-for-you', CouponForYou],
]) {
  if (!customElements.get(name)) customElements.define(name, cls);
}

export { CouponSimilar, CouponForYou, flush as flushCouponEvents };
