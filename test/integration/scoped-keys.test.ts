/**
 * Tenant-scoped API keys: a key's filter is ANDed into every search, similar, feed, suggest,
 * facet and coupon read made with it, and nothing a caller sends widens it — shown by 1,000
 * generated requests (any filter, parameters or body) and by hand-written attempts. Events posted
 * with a scoped key may only name coupons inside it and carry the key's id; an expired key gets
 * 401; the per-key cap on events per user per minute holds.
 */
import fc from 'fast-check';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/access/api-keys.ts';
import type { Coupon } from '../../src/domain/coupon.ts';
import { type Filter, matchesFilter, servableAt } from '../../src/domain/filter.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { api, startServer, testEnv, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

const RUNS = 1000;
const coupons = generateCatalogue({ size: 300, seed: 21 });
const byId = new Map(coupons.map((c) => [c.id, c]));
const merchants = [...new Set(coupons.map((c) => c.merchant.id))];
const categories = [...new Set(coupons.flatMap((c) => c.categories))];

/** Three tenants: one category, a few merchants, and everything but food within a region of the map. */
const FILTERS: Record<string, Filter> = {
  food: { category: ['food'] },
  merchants: { merchant: merchants.slice(0, 12) },
  notFood: { and: [{ not: { category: ['food'] } }, { online: false }] },
};

let server: TestServer;
let cleanup: () => Promise<void>;
const keys: Record<string, string> = {};
const keyIds: Record<string, string> = {};
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
  const t = await tempDir('scoped-keys-');
  cleanup = t.cleanup;
  const file = path.join(t.dir, 'keys.json');
  for (const [name, filter] of Object.entries(FILTERS)) {
    const { key, record } = createKey(file, name, ['search', 'events'], { filter });
    keys[name] = key;
    keyIds[name] = record.id;
  }
  keys.admin = createKey(file, 'admin', ['search', 'events', 'write']).key;
  keys.expired = createKey(file, 'old widget', ['search', 'events'], { expiresAt: new Date(Date.now() - 60_000) }).key;
  server = await startServer(testEnv(path.join(t.dir, 'data'), { API_KEYS_FILE: file, LOG_LEVEL: 'silent', EVENTS_PER_USER_PER_MINUTE: '5' }));
  await server.engine.upsertCoupons(coupons);
  await server.engine.queue.drained();
  // Shoppers with history, so feeds have something to rank.
  const events = coupons
    .slice(0, 120)
    .map((c, i) => ({ event_id: `seed-${i}`, user_id: `u${i % 6}`, coupon_id: c.id, type: 'click' as const, ts: new Date().toISOString() }));
  await server.engine.recordEvents(events);
}, 180_000);

afterAll(async () => {
  await server?.close();
  await cleanup?.();
});

/** Whether a coupon is one the key may see (the filter alone: a served coupon is also active and valid). */
const inside = (tenant: string, c: Coupon | undefined) => c !== undefined && matchesFilter(c, FILTERS[tenant]!);

/** Every coupon a response names, and for facets and suggestions whatever they reveal, must be inside the tenant's filter. */
function assertWithin(tenant: string, route: string, json: any): number {
  let checked = 0;
  for (const r of json?.results ?? []) {
    expect(inside(tenant, byId.get(r.id)), `${route}: result ${r.id} outside ${tenant}`).toBe(true);
    checked++;
  }
  if (json?.id && json?.merchant) {
    expect(inside(tenant, byId.get(json.id)), `${route}: coupon ${json.id} outside ${tenant}`).toBe(true);
    checked++;
  }
  const visible = coupons.filter((c) => inside(tenant, c));
  for (const [facet, values] of Object.entries(json?.facets ?? {}) as Array<[string, Array<{ value: string; count: number }>]>) {
    for (const { value, count } of values) {
      if (facet === 'category') expect(count, `${route}: ${value}`).toBeLessThanOrEqual(visible.filter((c) => c.categories.includes(value)).length);
      if (facet === 'merchant') expect(count, `${route}: ${value}`).toBeLessThanOrEqual(visible.filter((c) => c.merchant.id === value).length);
      if (facet === 'discount' || facet === 'distance') expect(count).toBeLessThanOrEqual(visible.length);
    }
  }
  for (const s of json?.suggestions ?? []) {
    expect(s.kind, `${route}: a past query`).not.toBe('query');
    const shown = (c: Coupon) => [c.title, c.merchant.name, ...c.categories].some((t) => t.toLowerCase() === s.text.toLowerCase());
    expect(visible.some(shown), `${route}: suggestion '${s.text}' not from ${tenant}'s coupons`).toBe(true);
    checked++;
  }
  return checked;
}

const word = fc.constantFrom('pizza', 'spa', 'massage', 'coffee', 'oil change', 'flight', 'pizz', 'tony', 'deal', 'half price', 'sushi', 'gym', 'shoes');
const anyFilter: fc.Arbitrary<Filter> = fc.letrec<{ f: Filter }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small' },
    fc.subarray(categories, { minLength: 1, maxLength: 4 }).map((category) => ({ category })),
    fc.subarray(merchants, { minLength: 1, maxLength: 5 }).map((merchant) => ({ merchant })),
    fc.integer({ min: 0, max: 90 }).map((gte) => ({ discount_pct: { gte } })),
    fc.boolean().map((online) => ({ online })),
    fc
      .subarray(
        coupons.slice(0, 60).map((c) => c.id),
        { minLength: 1, maxLength: 5 },
      )
      .map((id) => ({ id })),
    fc.constant<Filter>({ status: ['active', 'paused'] }),
    fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((or) => ({ or })),
    fc.array(tie('f'), { minLength: 1, maxLength: 2 }).map((and) => ({ and })),
    tie('f').map((not) => ({ not })),
  ),
})).f;
/** Facets to count; distance only where the request has a location (else it is a 400). */
const facets = (located: boolean) => fc.subarray(['category', 'merchant', 'discount', ...(located ? ['distance'] : [])], { minLength: 1 });
const place = fc.constantFrom('', '&lat=40.7128&lon=-74.006', '&lat=40.7128&lon=-74.006&radius_km=30');
const someId = fc.constantFrom(...coupons.map((c) => c.id));
/** Parameters a caller might add to widen what it sees: another key, paging far, explanations; search also takes filters of its own. */
const paging = fc.constantFrom('', '&api_key=__admin__', '&offset=40', '&limit=50', '&explain=true');
const widening = fc.oneof(paging, fc.constantFrom('&category=food', '&category=spa,travel', `&merchant=${merchants[40]}`, '&min_discount=30'));

const request = fc.oneof(
  fc.tuple(word, place, widening, fc.constantFrom('relevance', 'discount', 'newest', 'ending_soon'), fc.boolean()).chain(([q, p, x, sort, understand]) =>
    facets(p !== '').map((f) => ({
      method: 'GET',
      route: `/v1/search?q=${encodeURIComponent(q)}&facets=${f.join(',')}&sort=${sort}&understand=${understand}${p}${x}`,
    })),
  ),
  fc
    .tuple(word, anyFilter, facets(false), fc.integer({ min: 0, max: 40 }))
    .map(([q, filter, f, offset]) => ({ method: 'POST', route: '/v1/search', body: { q, filter, facets: f, limit: 50, offset } })),
  fc
    .tuple(someId, fc.constantFrom('content', 'behavior', 'blend'), paging)
    .map(([id, mode, x]) => ({ method: 'GET', route: `/v1/coupons/${id}/similar?mode=${mode}${x}` })),
  fc.tuple(fc.integer({ min: 0, max: 8 }), place, word, paging).map(([u, p, q, x]) => ({
    method: 'GET',
    route: `/v1/users/u${u}/recommendations?q=${encodeURIComponent(q)}${p}${x}`,
  })),
  fc
    .tuple(fc.constantFrom('p', 'pi', 'piz', 'to', 'tony', 'sp', 'ma', 'f', 'tr', 'co', 'ha'), fc.constantFrom('', '&limit=20', '&api_key=__admin__'))
    .map(([q, x]) => ({ method: 'GET', route: `/v1/suggest?q=${q}${x}` })),
  someId.map((id) => ({ method: 'GET', route: `/v1/coupons/${id}` })),
);

describe('scoped keys', () => {
  it(`never return a coupon outside the key's filter (${RUNS} generated requests over three tenants)`, async () => {
    const statuses = new Map<number, number>();
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(FILTERS)), request, async (tenant, r) => {
        // The admin key in a parameter while the scoped one is in the header: the header's key is the one used.
        const route = r.route.replace('__admin__', keys.admin!);
        const res = await api(server.url, r.method, route, 'body' in r ? r.body : undefined, bearer(keys[tenant]!));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        // 404: a coupon outside the filter is unknown to the key (as a read, or as the seed of similar).
        expect([200, 404], `${r.method} ${route}: ${res.text.slice(0, 200)}`).toContain(res.status);
        if (res.status === 200) checked += assertWithin(tenant, route, res.json);
        // And only those: a coupon inside the filter is found.
        if (res.status === 404) expect(inside(tenant, byId.get(route.split('/')[3]!.split('?')[0]!)), route).toBe(false);
      }),
      { numRuns: RUNS, seed: 17 },
    );
    // The property reached real answers, not only refusals.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(RUNS * 0.6);
    expect(checked).toBeGreaterThan(RUNS * 3);
  }, 600_000);

  it('cannot be widened by or, not, overriding parameters or a body field of its own', async () => {
    const food = bearer(keys.food!);
    const attempts: Array<[string, string, unknown?]> = [
      ['POST', '/v1/search', { q: 'spa massage', filter: { or: [{ category: ['spa'] }, { not: { category: ['food'] } }] }, limit: 50 }],
      ['POST', '/v1/search', { q: 'massage', filter: { not: { category: ['food'] } }, facets: ['category'], limit: 50 }],
      ['GET', '/v1/search?q=massage&category=spa&facets=category,merchant&limit=50'],
      ['GET', `/v1/search?q=massage&limit=50&api_key=${keys.admin}`],
      ['GET', `/v1/users/u1/recommendations?category=spa&limit=50`],
    ];
    for (const [method, route, body] of attempts) {
      const res = await api(server.url, method, route, body, food);
      expect(res.status, `${method} ${route}`).toBe(200);
      assertWithin('food', route, res.json);
    }
    // The same searches with the unscoped key do find coupons outside food: the scoping is what kept them out.
    const open = await api(server.url, 'POST', '/v1/search', attempts[0]![2], bearer(keys.admin!));
    expect(open.json.results.some((r: any) => !byId.get(r.id)!.categories.includes('food'))).toBe(true);
    // A repeated api_key parameter is refused, and so is a body field naming a filter of its own; a coupon outside the filter is not found, even as a seed.
    expect((await api(server.url, 'GET', `/v1/search?q=spa&api_key=${keys.admin}&api_key=x`, undefined, food)).status).toBe(400);
    expect((await api(server.url, 'POST', '/v1/search', { q: 'spa', keyFilter: { category: ['spa'] } }, food)).status).toBe(400);
    const spa = coupons.find((c) => !c.categories.includes('food'))!;
    expect((await api(server.url, 'GET', `/v1/coupons/${spa.id}`, undefined, food)).status).toBe(404);
    expect((await api(server.url, 'GET', `/v1/coupons/${spa.id}/similar`, undefined, food)).status).toBe(404);
    // Disjunctive facet counts relax the caller's category filter, never the key's.
    const faceted = await api(server.url, 'GET', '/v1/search?q=pizza&category=food&facets=category', undefined, food);
    expect(faceted.json.facets.category.map((v: any) => v.value)).toContain('food');
    assertWithin('food', 'facets', faceted.json);
  });

  it('may not write, reindex, scrape metrics or read rules and synonym sets: those span every tenant', async () => {
    const c = coupons.find((x) => x.categories.includes('food'))!;
    for (const [method, route, body] of [
      ['PUT', `/v1/coupons/${c.id}`, c],
      ['POST', '/v1/reindex', {}],
      ['GET', '/metrics', undefined],
      ['GET', '/v1/rules', undefined],
      ['GET', '/v1/synonyms', undefined],
    ] as const) {
      const res = await api(server.url, method, route, body, bearer(keys.food!));
      expect(res.status, route).toBe(403);
    }
    expect(() => createKey(path.join(server.config.dataDir, 'k.json'), 'bad', ['search', 'write'], { filter: FILTERS.food })).toThrow(
      /only have the search, events scopes/,
    );
  });
});

describe('events with scoped keys', () => {
  const event = (id: string, couponId: string, user = 'shopper-1') => ({
    event_id: id,
    user_id: user,
    coupon_id: couponId,
    type: 'click',
    ts: new Date().toISOString(),
  });
  const foodCoupon = coupons.find((c) => c.categories.includes('food') && matchesFilter(c, servableAt(new Date())))!;
  const spaCoupon = coupons.find((c) => !c.categories.includes('food'))!;

  it('may only name coupons inside the filter; each stored event carries the key that posted it', async () => {
    const refused = await api(server.url, 'POST', '/v1/events', { events: [event('e-in', foodCoupon.id), event('e-out', spaCoupon.id)] }, bearer(keys.food!));
    expect(refused.status).toBe(403);
    expect(refused.json.error.message).toContain(spaCoupon.id);
    expect(refused.json.error.message).not.toContain(foodCoupon.id);
    // Nothing of a refused batch is stored.
    const search = await api(server.url, 'GET', `/v1/search?q=${encodeURIComponent(foodCoupon.title)}`, undefined, bearer(keys.food!));
    const shown = search.json.results[0];
    const click = { ...event('e-in', shown.id, 'shopper-2'), query_id: search.json.query_id, position: 0 };
    const ok = await api(server.url, 'POST', '/v1/events', { events: [click] }, bearer(keys.food!));
    expect(ok.status).toBe(202);
    expect(ok.json.accepted).toBe(1);
    // Training can leave out what a key posted: the click is an outcome, unless its key is excluded.
    const outcomes = async (excludeKeys?: string[]) => {
      for await (const list of server.engine.events.servedOutcomes({ excludeKeys })) if (list.queryId === search.json.query_id) return list.outcomes;
      return undefined;
    };
    await expect.poll(() => outcomes(), { timeout: 10_000 }).toEqual({ [shown.id]: ['click'] });
    expect(await outcomes([keyIds.food!])).toEqual({});
  });

  it('caps events per user per minute under each key (over the cap they are not stored)', async () => {
    const batch = Array.from({ length: 8 }, (_, i) => event(`cap-${i}`, foodCoupon.id, 'busy-shopper'));
    const first = await api(server.url, 'POST', '/v1/events', { events: batch }, bearer(keys.food!));
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ accepted: 5, rate_limited: 3 });
    const again = await api(server.url, 'POST', '/v1/events', { events: [event('cap-9', foodCoupon.id, 'busy-shopper')] }, bearer(keys.food!));
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another shopper, or the same shopper id under another key, has its own budget.
    expect((await api(server.url, 'POST', '/v1/events', { events: [event('cap-10', foodCoupon.id, 'calm-shopper')] }, bearer(keys.food!))).status).toBe(202);
    expect((await api(server.url, 'POST', '/v1/events', { events: [event('cap-11', foodCoupon.id, 'busy-shopper')] }, bearer(keys.admin!))).status).toBe(202);
  });
});

describe('expiry', () => {
  it('answers an expired key with 401 saying it expired', async () => {
    const res = await api(server.url, 'GET', '/v1/search?q=pizza', undefined, bearer(keys.expired!));
    expect(res.status).toBe(401);
    expect(res.json.error.message).toMatch(/expired at \d{4}-\d{2}-\d{2}T/);
  });
});
