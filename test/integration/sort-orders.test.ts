/**
 * sort=discount|ending_soon|distance|newest: the same candidates as relevance, in the field's
 * order, ties by relevance; checked against a brute-force sort of the relevance list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Coupon, discountPercent } from '../../src/domain/coupon.ts';
import { nearestDistanceKm } from '../../src/domain/geo.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { api, type TestServer } from '../support/server.ts';
import { serveCatalogue, STORE_SETUPS } from '../support/stores.ts';

const NYC = { lat: 40.7128, lon: -74.006 };

describe.each(STORE_SETUPS)('sort orders on $name', (setup) => {
  if (setup.missing) return void it.skip(setup.missing, () => undefined);
  let server: TestServer;

  beforeAll(async () => {
    server = await serveCatalogue(setup, generateCatalogue({ size: 400, seed: 9 }), { dirPrefix: 'sort-' });
  }, 120_000);
  afterAll(() => server?.close());

  /** Every result of a search, page by page. */
  const all = async (params: string) => {
    const out: Array<{ id: string; coupon: Coupon }> = [];
    for (let offset = 0; ; offset += 100) {
      const res = await api(server.url, 'GET', `/v1/search?${params}&limit=100&offset=${offset}`);
      expect(res.status, res.text).toBe(200);
      out.push(...res.json.results);
      if (offset + 100 >= res.json.total) return out;
    }
  };

  const keys: Record<string, (c: Coupon) => number> = {
    discount: (c) => -discountPercent(c),
    ending_soon: (c) => Date.parse(c.valid_until),
    distance: (c) => nearestDistanceKm(NYC, c.locations) ?? Infinity,
    newest: (c) => -Date.parse(c.valid_from),
  };

  it.each(Object.keys(keys))('sort=%s reorders the relevance list by its field, ties by relevance', async (order) => {
    const base = `q=pizza+dinner&lat=${NYC.lat}&lon=${NYC.lon}`;
    const relevance = await all(base);
    const sorted = await all(`${base}&sort=${order}`);
    const key = keys[order]!;
    const expected = relevance.map((r, i) => ({ id: r.id, i, k: key(r.coupon) })).sort((a, b) => a.k - b.k || a.i - b.i);
    expect(sorted.map((r) => r.id)).toEqual(expected.map((e) => e.id));
    expect(new Set(sorted.map((r) => r.id)).size).toBeGreaterThan(10);
  });

  it('sort=distance needs a place; an unknown order is refused naming the field', async () => {
    expect((await api(server.url, 'GET', '/v1/search?q=pizza&sort=distance')).json.error.message).toMatch(/sort.*needs lat and lon/);
    expect((await api(server.url, 'GET', '/v1/search?q=pizza&sort=cheapest')).json.error.message).toMatch(/sort/);
  });
});
