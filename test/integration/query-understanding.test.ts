/**
 * Coupon query understanding, synonyms and facets through the API, on the sample catalogue:
 * phrases become filters and boosts, synonym sets change results without a reindex, and facet
 * counts equal a brute-force count over the candidates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Coupon, discountPercent } from '../../src/domain/coupon.ts';
import { haversineKm } from '../../src/domain/geo.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { api, type TestServer } from '../support/server.ts';
import { serveCatalogue, STORE_SETUPS } from '../support/stores.ts';

interface Result {
  id: string;
  coupon: Coupon;
  boosted_by?: string[];
  highlight: { title: Array<[number, number]> };
}
interface Response {
  total: number;
  results: Result[];
  understood?: Array<{ text: string; as: string; filter?: unknown; boost?: unknown }>;
  facets?: Record<string, Array<{ value: string; count: number }>>;
  facets_counted?: string;
  corrected_query?: string;
  explain?: { stages: Record<string, { note: string }> };
}

describe.each(STORE_SETUPS)('query understanding, synonyms and facets on $name', (setup) => {
  if (setup.missing) return void it.skip(setup.missing, () => undefined);
  let server: TestServer;
  const catalogue = generateCatalogue({ size: 2400, seed: 5 });

  beforeAll(async () => {
    // 50 per retriever: every candidate fits on one page of 100, so facet counts can be checked by brute force.
    server = await serveCatalogue(setup, catalogue, { dirPrefix: 'understanding-', env: { SEARCH_CANDIDATES: '50' } });
  }, 300_000);
  afterAll(() => server?.close());

  const search = async (params: string): Promise<Response> => {
    const res = await api(server.url, 'GET', `/v1/search?${params}`);
    expect(res.status, res.text).toBe(200);
    return res.json as Response;
  };

  describe('understanding', () => {
    it('"half price pizza" puts only coupons at 45 % off or more in its top 5, and says why', async () => {
      const res = await search('q=half+price+pizza&limit=5&explain=true');
      expect(res.understood).toEqual([{ text: 'half price', as: 'discount_target', boost: { discount_pct: { gte: 45 } } }]);
      expect(res.results).toHaveLength(5);
      for (const r of res.results) {
        expect(discountPercent(r.coupon)).toBeGreaterThanOrEqual(45);
        expect(r.coupon.title.toLowerCase()).toContain('pizza');
        expect(r.boosted_by).toEqual(['understood "half price"']);
      }
      expect(res.explain!.stages.embed!.note).toContain('"half price" as discount target');
      // Without understanding, the same words rank by relevance alone.
      const plain = await search('q=half+price+pizza&limit=5&understand=false');
      expect(plain.understood).toBeUndefined();
      expect(plain.results.some((r) => r.boosted_by)).toBe(false);
    });

    it('"pizza under $15" returns only coupons whose final price is at most 15', async () => {
      const res = await search('q=pizza+under+%2415&limit=50');
      expect(res.understood).toEqual([{ text: 'under $15', as: 'price_cap', filter: { final_price: { lte: 15 } } }]);
      expect(res.results.length).toBeGreaterThan(0);
      for (const r of res.results) expect(r.coupon.final_price).toBeLessThanOrEqual(15);
      expect(res.results.filter((r) => /pizza/i.test(r.coupon.title)).length).toBeGreaterThan(0);
    });

    it('"bogo" prefers buy-one-get-one coupons and is never "corrected"', async () => {
      const res = await search('q=bogo+pizza&limit=3');
      expect(res.corrected_query).toBeUndefined();
      expect(res.understood?.[0]).toMatchObject({ text: 'bogo', as: 'discount_kind' });
      for (const r of res.results) expect(r.coupon.discount.kind).toBe('bogo');
    });

    it('"tonight" keeps coupons valid tonight and usable today; "online" keeps online ones', async () => {
      const res = await search('q=massage+tonight+online&limit=50');
      expect(res.understood?.map((u) => u.as).sort()).toEqual(['channel', 'time']);
      const now = new Date();
      const evening = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 20));
      const at = evening > now ? evening : now;
      const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][at.getUTCDay()];
      for (const r of res.results) {
        expect(r.coupon.online).toBe(true);
        expect(r.coupon.usable_weekdays).toContain(day);
        expect(Date.parse(r.coupon.valid_until)).toBeGreaterThan(at.getTime());
      }
    });

    it('"near me" prefers stores within 5 km when lat/lon are given, and is ignored (in explain) without', async () => {
      const sample = catalogue.find((c) => c.locations.length && /pizza/i.test(c.title))!;
      const { lat, lon } = sample.locations[0]!;
      const res = await search(`q=pizza+near+me&lat=${lat}&lon=${lon}&limit=3`);
      expect(res.understood?.[0]).toMatchObject({ text: 'near me', as: 'distance' });
      for (const r of res.results) expect(Math.min(...r.coupon.locations.map((p) => haversineKm(p, { lat, lon })))).toBeLessThanOrEqual(5);
      const without = await search('q=pizza+near+me&limit=3&explain=true');
      expect(without.understood).toBeUndefined();
      expect(without.explain!.stages.embed!.note).toContain('"near me" ignored');
    });
  });

  describe('synonyms', () => {
    it('a multi-way set added over the API changes a query with no other match, without a reindex, and can be removed', async () => {
      const before = await search('q=zorbly&limit=5&typo_tolerance=false');
      expect(before.results.filter((r) => /sushi/i.test(r.coupon.title))).toHaveLength(0);
      const put = await api(server.url, 'PUT', '/v1/synonyms/sushi-words', { synonyms: ['zorbly', 'sushi', 'nigiri'] });
      expect(put.status, put.text).toBe(200);
      expect(put.json).toMatchObject({ id: 'sushi-words', synonyms: ['zorbly', 'sushi', 'nigiri'] });
      const after = await search('q=zorbly&limit=5&explain=true');
      expect(after.results.length).toBe(5);
      for (const r of after.results) expect(r.coupon.title.toLowerCase()).toMatch(/sushi|nigiri/);
      expect(after.explain!.stages.embed!.note).toContain('synonyms (sushi-words)');
      // Highlights show the synonym the title uses.
      const marked = after.results.flatMap((r) => r.highlight.title.map(([a, b]) => r.coupon.title.slice(a, b).toLowerCase()));
      expect(marked.some((w) => w === 'sushi' || w === 'nigiri')).toBe(true);
      const listed = await api(server.url, 'GET', '/v1/synonyms');
      expect(listed.json.synonyms.map((s: { id: string }) => s.id)).toContain('sushi-words');
      expect((await api(server.url, 'DELETE', '/v1/synonyms/sushi-words')).status).toBe(204);
      expect((await api(server.url, 'DELETE', '/v1/synonyms/sushi-words')).status).toBe(404);
      const gone = await search('q=zorbly&limit=5&typo_tolerance=false');
      expect(gone.results.map((r) => r.id)).toEqual(before.results.map((r) => r.id));
    });

    it('a one-way set expands its root only', async () => {
      expect((await api(server.url, 'PUT', '/v1/synonyms/treat', { root: 'treat', synonyms: ['massage'] })).status).toBe(200);
      const root = await search('q=treat&limit=5');
      expect(root.results.some((r) => /massage/i.test(r.coupon.title))).toBe(true);
      const back = await search('q=massage&limit=5&explain=true');
      expect(back.explain!.stages.embed!.note).not.toContain('synonyms');
      await api(server.url, 'DELETE', '/v1/synonyms/treat');
    });

    it('rejects malformed sets with field-named errors', async () => {
      const cases: Array<[unknown, string]> = [
        [{ synonyms: ['only-one'] }, 'synonyms'],
        [{ root: 'tv', synonyms: [] }, 'synonyms'],
        [{ synonyms: ['a', 'b'], extra: 1 }, ''],
        [{ root: '', synonyms: ['x'] }, 'root'],
      ];
      for (const [body] of cases) {
        const res = await api(server.url, 'PUT', '/v1/synonyms/bad', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.json.error.code).toBe('invalid_input');
      }
      expect((await api(server.url, 'GET', '/v1/synonyms/bad')).status).toBe(404);
    });
  });

  describe('facets', () => {
    const brute = (coupons: Coupon[], facet: 'category' | 'merchant') => {
      const counts = new Map<string, number>();
      for (const c of coupons) for (const v of facet === 'category' ? new Set(c.categories) : [c.merchant.id]) counts.set(v, (counts.get(v) ?? 0) + 1);
      return counts;
    };

    it('counts equal a brute-force count over the candidates, for every facet', async () => {
      const origin = catalogue.find((c) => c.locations.length)!.locations[0]!;
      const res = await search(`q=dinner+deal&limit=100&facets=category,merchant,discount,distance&lat=${origin.lat}&lon=${origin.lon}`);
      expect(res.facets_counted).toBe('candidates');
      expect(res.total).toBeLessThanOrEqual(100); // every candidate is on this page
      const coupons = res.results.map((r) => r.coupon);
      expect(res.total).toBe(coupons.length);
      for (const facet of ['category', 'merchant'] as const) {
        const expected = brute(coupons, facet);
        expect(new Map(res.facets![facet]!.map((v) => [v.value, v.count]))).toEqual(expected);
      }
      expect(res.facets!.discount).toEqual([10, 25, 50, 75].map((b) => ({ value: String(b), count: coupons.filter((c) => discountPercent(c) >= b).length })));
      const km = (c: Coupon) => Math.min(Infinity, ...c.locations.map((p) => haversineKm(p, origin)));
      expect(res.facets!.distance).toEqual([1, 5, 25].map((b) => ({ value: String(b), count: coupons.filter((c) => km(c) <= b).length })));
    });

    it('a facet the filter constrains still counts its other values (disjunctive)', async () => {
      const pageNote = (r: any) => r.explain.stages.page.note as string;
      // Cold: no search counted this query without the filter, so its retrieval runs beside the search's own.
      const cold = await search('q=family+dinner&limit=100&facets=category&category=food&explain=true');
      expect(pageNote(cold)).toMatch(/category over the candidates without their own filter/);
      expect(pageNote(cold)).not.toContain('recent search');
      const coldAll = await search('q=family+dinner&limit=100&facets=category');
      expect(cold.facets!.category).toEqual(coldAll.facets!.category);
      // Navigation: the search, then a value chosen: the set the first one counted is reused, so the other values keep their counts.
      const all = await search('q=dinner+deal&limit=100&facets=category');
      const food = await search('q=dinner+deal&limit=100&facets=category,merchant&category=food&explain=true');
      expect(pageNote(food)).toContain('category (the set a recent search counted)');
      for (const r of food.results) expect(r.coupon.categories).toContain('food');
      expect(food.facets!.category!.length).toBeGreaterThan(1);
      expect(food.facets!.category).toEqual(all.facets!.category);
      // The other facet counts the filtered candidates.
      expect(new Map(food.facets!.merchant!.map((v) => [v.value, v.count]))).toEqual(
        brute(
          food.results.map((r) => r.coupon),
          'merchant',
        ),
      );
    });

    it('validates the facet list', async () => {
      expect((await api(server.url, 'GET', '/v1/search?q=pizza&facets=colour')).status).toBe(400);
      const noPlace = await api(server.url, 'GET', '/v1/search?q=pizza&facets=distance');
      expect(noPlace.status).toBe(400);
      expect(JSON.stringify(noPlace.json.error.details)).toContain('facets');
      const body = await api(server.url, 'POST', '/v1/search', { q: 'pizza', facets: ['merchant'], limit: 3 });
      expect(body.status).toBe(200);
      expect(body.json.facets.merchant.length).toBeGreaterThan(0);
    });
  });
});
