/**
 * The HTTP API on the embedded default (inline queue, LanceDB in a temp dir, the real model):
 * writes, reads, validation that names the field, body limits and injection-like input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { api, startServer, testEnv, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

const catalogue = generateCatalogue({ size: 200, seed: 9 });
const validCoupon = (id: string) => ({
  id,
  merchant: { id: 'm-test', name: 'Test Pizzeria' },
  title: 'Pepperoni pizza for two',
  description: 'Stone-baked pizza with two sodas.',
  categories: ['food'],
  discount: { kind: 'percent', value: 30 },
  valid_from: '2020-01-01T00:00:00Z',
  valid_until: '2099-01-01T00:00:00Z',
  locations: [{ lat: 40.7, lon: -74 }],
});

describe('HTTP API (embedded default)', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let server: TestServer;

  beforeAll(async () => {
    dir = await tempDir('api-');
    server = await startServer(testEnv(dir.dir));
    const res = await api(server.url, 'POST', '/v1/coupons/batch', { coupons: catalogue });
    expect(res.status).toBe(202);
    expect(res.json.job_ids).toHaveLength(catalogue.length);
    await server.engine.queue.drained();
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  it('serves liveness and readiness with each dependency checked', async () => {
    expect((await api(server.url, 'GET', '/healthz')).json).toEqual({ status: 'ok' });
    const ready = await api(server.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.json.checks).sort()).toEqual(['embedder', 'events', 'queue', 'ranker', 'recommender', 'store', 'vector_space']);
    expect(ready.json.checks.store.detail).toContain(`${catalogue.length} coupons`);
  });

  it('PUT, GET and DELETE a coupon; waiting returns the finished job', async () => {
    const put = await api(server.url, 'PUT', '/v1/coupons/new-1?wait=true', validCoupon('new-1'));
    expect(put.status).toBe(200);
    expect(put.json.job.state).toBe('completed');
    expect(put.json.job.result).toMatchObject({ id: 'new-1', outcome: 'written' });
    const got = await api(server.url, 'GET', '/v1/coupons/new-1');
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ id: 'new-1', title: 'Pepperoni pizza for two', status: 'active', currency: 'USD' });
    const job = await api(server.url, 'GET', `/v1/jobs/${put.json.job_id}`);
    expect(job.json.state).toBe('completed');
    const del = await api(server.url, 'DELETE', '/v1/coupons/new-1?wait=true');
    expect(del.status).toBe(200);
    expect((await api(server.url, 'GET', '/v1/coupons/new-1')).status).toBe(404);
  });

  it('an older version never overwrites a newer one, whatever the arrival order', async () => {
    const newer = await api(server.url, 'PUT', '/v1/coupons/ver-1?wait=true', { ...validCoupon('ver-1'), title: 'Newer', version: 20 });
    expect(newer.json.job.result.outcome).toBe('written');
    const older = await api(server.url, 'PUT', '/v1/coupons/ver-1?wait=true', { ...validCoupon('ver-1'), title: 'Older', version: 10 });
    expect(older.json.job.result.outcome).toBe('stale');
    expect((await api(server.url, 'GET', '/v1/coupons/ver-1')).json).toMatchObject({ title: 'Newer', version: 20 });
    // The same version again is one job (idempotent enqueue).
    const again = await api(server.url, 'PUT', '/v1/coupons/ver-1', { ...validCoupon('ver-1'), title: 'Newer', version: 20 });
    expect(again.json.job_id).toBe(newer.json.job_id);
  });

  it.each([
    ['GET', '/v1/search', undefined, 'q'],
    ['GET', '/v1/search?q=', undefined, 'q'],
    ['GET', '/v1/search?q=pizza&limit=abc', undefined, 'limit'],
    ['GET', '/v1/search?q=pizza&limit=1000', undefined, 'limit'],
    ['GET', '/v1/search?q=pizza&offset=-1', undefined, 'offset'],
    ['GET', '/v1/search?q=pizza&lat=200&lon=0', undefined, 'lat'],
    ['GET', '/v1/search?q=pizza&lat=40', undefined, 'lon'],
    ['GET', '/v1/search?q=pizza&radius_km=5', undefined, 'radius_km'],
    ['GET', '/v1/search?q=pizza&min_discount=150', undefined, 'min_discount'],
    ['GET', '/v1/search?q=pizza&explain=maybe', undefined, 'explain'],
    ['GET', '/v1/search?q=pizza&colour=red', undefined, 'colour'],
    ['GET', '/v1/search?q=pizza&q=sushi', undefined, 'q'],
    ['GET', `/v1/search?q=${'x'.repeat(501)}`, undefined, 'q'],
    ['POST', '/v1/search', { q: 'pizza', filter: { and: [{ geo: { lat: 1, lon: 2, radius_km: -3 } }] } }, 'filter.and.0.geo.radius_km'],
    ['POST', '/v1/search', { q: 'pizza', filter: { colour: ['red'] } }, 'filter'],
    ['POST', '/v1/search', { q: 'pizza', limit: '10' }, 'limit'],
    ['POST', '/v1/search', { filter: { category: ['food'] } }, 'q'],
    ['PUT', '/v1/coupons/abc', { ...validCoupon('abc'), discount: { kind: 'half', value: 1 } }, 'discount.kind'],
    ['PUT', '/v1/coupons/abc', { ...validCoupon('abc'), valid_until: '2019-01-01T00:00:00Z' }, 'valid_until'],
    ['PUT', '/v1/coupons/abc', { ...validCoupon('abc'), locations: [], online: false }, 'locations'],
    ['PUT', '/v1/coupons/abc', { ...validCoupon('abc'), locations: [{ lat: 91, lon: 0 }] }, 'locations.0.lat'],
    ['PUT', '/v1/coupons/abc', { ...validCoupon('abc'), surprise: true }, 'surprise'],
    ['PUT', '/v1/coupons/abc', validCoupon('other'), 'id'],
    ['PUT', '/v1/coupons/bad%20id', validCoupon('bad id'), 'id'],
    ['POST', '/v1/coupons/batch', { coupons: [validCoupon('ok-1'), { ...validCoupon('bad-2'), title: '' }] }, 'coupons.1.title'],
    ['POST', '/v1/coupons/batch', { coupons: [] }, 'coupons'],
    ['POST', '/v1/coupons/batch', { coupons: Array.from({ length: 1001 }, (_, i) => ({ id: `x${i}` })) }, 'coupons'],
    ['GET', '/v1/coupons/cpn-000001/similar?limit=0', undefined, 'limit'],
    ['GET', '/v1/coupons/b%27ad/similar', undefined, 'id'],
    ['GET', '/v1/jobs/%27%3B', undefined, 'id'],
    ['DELETE', '/v1/coupons/abc?wait=soon', undefined, 'wait'],
    ['POST', '/v1/events', { events: [{ event_id: 'e1', user_id: 'u1', coupon_id: 'c1', type: 'like', ts: '2026-01-01T00:00:00Z' }] }, 'events.0.type'],
    ['POST', '/v1/events', { events: [{ event_id: 'e1', coupon_id: 'c1', type: 'click', ts: '2026-01-01T00:00:00Z' }] }, 'events.0.user_id'],
    ['POST', '/v1/events', { events: [{ event_id: 'e1', user_id: 'u1', coupon_id: 'c1', type: 'click', ts: '2999-01-01T00:00:00Z' }] }, 'events.0.ts'],
    ['POST', '/v1/events', { events: [{ event_id: 'e1', user_id: 'u1', coupon_id: 'c1', type: 'click', ts: 'yesterday' }] }, 'events.0.ts'],
    [
      'POST',
      '/v1/events',
      { events: Array.from({ length: 1001 }, (_, i) => ({ event_id: `e${i}`, user_id: 'u', coupon_id: 'c', type: 'click', ts: '2026-01-01T00:00:00Z' })) },
      'events',
    ],
    ['POST', '/v1/events', { events: [] }, 'events'],
  ])('%s %s answers 400 naming %s', async (method, path, body, field) => {
    const res = await api(server.url, method, path, body);
    expect(res.status, res.text).toBe(400);
    expect(res.json.error.code).toBe('invalid_input');
    expect(res.json.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(res.json.error.message.startsWith(field)).toBe(true);
    expect(res.text).not.toMatch(/at .*\.ts:\d+/); // never a stack trace
  });

  it('rejects malformed JSON and the wrong content type, naming what is wrong', async () => {
    const bad = await api(server.url, 'POST', '/v1/search', '{"q": "pizza"');
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].field).toBe('body');
    const form = await api(server.url, 'POST', '/v1/search', 'q=pizza', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(400);
    expect(form.json.error.details[0].field).toBe('content-type');
  });

  it.each([
    ['PUT', '/v1/coupons/big'],
    ['POST', '/v1/coupons/batch'],
    ['POST', '/v1/search'],
  ])('%s %s answers 413 to a 2 MB body', async (method, path) => {
    const res = await api(server.url, method, path, JSON.stringify({ q: 'x'.repeat(2 * 1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('payload_too_large');
  });

  it('answers 404 for unknown coupons, jobs and routes, and 405 for a wrong method', async () => {
    expect((await api(server.url, 'GET', '/v1/coupons/nope')).json.error.code).toBe('not_found');
    expect((await api(server.url, 'GET', '/v1/coupons/nope/similar')).status).toBe(404);
    expect((await api(server.url, 'GET', '/v1/jobs/upsert-nope-v1')).status).toBe(404);
    expect((await api(server.url, 'GET', '/v2/anything')).status).toBe(404);
    expect((await api(server.url, 'PATCH', '/v1/search')).status).toBe(405);
  });

  it('treats injection-like filter and query values as plain values', async () => {
    const food = catalogue.filter((c) => c.categories.includes('food')).length;
    expect(food).toBeGreaterThan(0);
    for (const value of ["food' OR '1'='1", 'food\\', "'; DROP TABLE coupons_1; --", 'food) OR (TRUE', '%', '_']) {
      const res = await api(server.url, 'GET', `/v1/search?q=pizza&category=${encodeURIComponent(value)}&merchant=${encodeURIComponent(value)}`);
      expect(res.status, value).toBe(200);
      expect(res.json.results, value).toEqual([]);
    }
    const res = await api(server.url, 'POST', '/v1/search', { q: 'pizza\' OR 1=1 -- \\ " `', filter: { tags_any: ["pizza') OR TRUE --"] } });
    expect(res.status).toBe(200);
    expect(res.json.results).toEqual([]);
    const plain = await api(server.url, 'GET', `/v1/search?q=${encodeURIComponent("pizza' OR 1=1 --")}&category=food`);
    expect(plain.status).toBe(200);
    expect(plain.json.results.length).toBeGreaterThan(0);
    expect((await api(server.url, 'GET', '/readyz')).json.checks.store.detail).toContain('coupons');
  });

  it('stores events once and counts them once: a replayed batch changes no counter', async () => {
    const coupon = catalogue[0]!;
    const now = Date.now();
    const events = ['impression', 'click', 'redeem'].map((type, i) => ({
      event_id: `ev-${i}`,
      user_id: 'shopper-1',
      coupon_id: coupon.id,
      type,
      ts: new Date(now - i * 1000).toISOString(),
      position: 0,
    }));
    const first = await api(server.url, 'POST', '/v1/events', { events });
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ accepted: 3, duplicates: 0 });
    const before = (await server.engine.events.couponStats([coupon.id])).get(coupon.id)!.counts;
    expect(before.click).toBeCloseTo(1, 3);
    const replay = await api(server.url, 'POST', '/v1/events', { events });
    expect(replay.json).toMatchObject({ accepted: 0, duplicates: 3 });
    const after = (await server.engine.events.couponStats([coupon.id])).get(coupon.id)!.counts;
    for (const type of ['impression', 'click', 'redeem'] as const) expect(after[type]).toBeCloseTo(before[type], 3);
    const affinity = await server.engine.events.userAffinity('shopper-1');
    expect(affinity.excluded).toEqual([coupon.id]);
    expect(affinity.categories[coupon.categories[0]!]).toBeGreaterThan(1.9);
  });

  it('POST /v1/search takes the filter AST', async () => {
    const res = await api(server.url, 'POST', '/v1/search', {
      q: 'dinner',
      filter: { and: [{ category: ['food'] }, { not: { discount_kind: ['bogo'] } }, { discount_pct: { gte: 50 } }] },
      limit: 20,
    });
    expect(res.status).toBe(200);
    expect(res.json.results.length).toBeGreaterThan(0);
    for (const r of res.json.results) {
      expect(r.coupon.categories).toContain('food');
      expect(r.coupon.discount.kind).not.toBe('bogo');
    }
  });

  it('pages without overlap and caps results per merchant', async () => {
    const p1 = await api(server.url, 'GET', '/v1/search?q=pizza&limit=5&offset=0');
    const p2 = await api(server.url, 'GET', '/v1/search?q=pizza&limit=5&offset=5');
    const ids1 = p1.json.results.map((r: { id: string }) => r.id);
    const ids2 = p2.json.results.map((r: { id: string }) => r.id);
    expect(ids1).toHaveLength(5);
    expect(ids1.filter((id: string) => ids2.includes(id))).toEqual([]);
    const merchants = p1.json.results.map((r: { coupon: { merchant: { id: string } } }) => r.coupon.merchant.id);
    for (const m of new Set(merchants)) expect(merchants.filter((x: string) => x === m).length).toBeLessThanOrEqual(2);
  });
});
