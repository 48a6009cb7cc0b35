/**
 * Typo tolerance through the API: misspelt words reach BM25 corrected, the response says so,
 * it can be turned off, and a coupon written a moment ago already counts in the vocabulary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { makeCoupon } from '../support/coupons.ts';
import { api, type TestServer } from '../support/server.ts';
import { serveCatalogue, STORE_SETUPS } from '../support/stores.ts';

describe.each(STORE_SETUPS)('typo tolerance on $name', (setup) => {
  if (setup.missing) return void it.skip(setup.missing, () => undefined);
  let server: TestServer;

  beforeAll(async () => {
    server = await serveCatalogue(setup, generateCatalogue({ size: 600, seed: 3 }), { dirPrefix: 'typos-' });
  }, 120_000);
  afterAll(() => server?.close());

  const search = async (params: string) => {
    const res = await api(server.url, 'GET', `/v1/search?${params}`);
    expect(res.status, res.text).toBe(200);
    return res.json as {
      corrected_query?: string;
      results: Array<{ coupon: { title: string }; explain?: { lexical?: unknown } }>;
      explain?: { stages: Record<string, { note: string }> };
    };
  };

  it.each([
    ['pizzza', 'pizza', /pizza/i],
    ['sushii', 'sushi', /sushi/i],
    ['masage', 'massage', /massage/i],
  ])('"%s" is searched as "%s" and finds its coupons through BM25 too', async (typo, fixed, title) => {
    const res = await search(`q=${typo}&limit=5&explain=true`);
    expect(res.corrected_query).toBe(fixed);
    expect(res.explain!.stages.embed!.note).toContain(`"${typo}" → "${fixed}"`);
    expect(res.results.length).toBeGreaterThan(0);
    expect(res.results.every((r) => title.test(r.coupon.title))).toBe(true);
    expect(res.results.some((r) => r.explain?.lexical)).toBe(true);
  });

  it('highlight ranges point at the query terms as searched (stemmed, typo-corrected) in title and description', async () => {
    const res = (await api(server.url, 'GET', '/v1/search?q=pizzzas+garlic&limit=5')).json as {
      results: Array<{ coupon: { title: string; description: string }; highlight: { title: Array<[number, number]>; description: Array<[number, number]> } }>;
    };
    const marked = res.results.flatMap((r) => [
      ...r.highlight.title.map(([a, b]) => r.coupon.title.slice(a, b)),
      ...r.highlight.description.map(([a, b]) => r.coupon.description.slice(a, b)),
    ]);
    expect(marked.length).toBeGreaterThan(0);
    for (const word of marked) expect(word.toLowerCase()).toMatch(/^(pizzas?|garlic)$/);
    for (const r of res.results) for (const [a, b] of r.highlight.title) expect(a < b && b <= r.coupon.title.length).toBe(true);
  });

  it('suggests past queries, merchants, categories and titles for a prefix, typos included', async () => {
    const suggest = async (q: string) => {
      const res = await api(server.url, 'GET', `/v1/suggest?q=${encodeURIComponent(q)}&limit=8`);
      expect(res.status, res.text).toBe(200);
      return res.json.suggestions as Array<{ text: string; kind: string; count: number }>;
    };
    await search('q=pizza+for+two'); // a served query with results
    const piz = await suggest('piz');
    expect(piz.some((s) => (s.kind === 'query' || s.kind === 'coupon') && /pizza/i.test(s.text))).toBe(true);
    expect(piz.filter((s) => s.kind === 'query').map((s) => s.text)).toContain('pizza for two');
    expect((await suggest('tony')).find((s) => s.kind === 'merchant')).toMatchObject({ text: "Tony's Pizzeria" });
    expect((await suggest('foo')).find((s) => s.kind === 'category')).toMatchObject({ text: 'food' });
    for (const s of piz) expect(s.count).toBeGreaterThan(0);
    expect((await suggest('pizaz')).some((s) => /pizza/i.test(s.text))).toBe(true); // one edit off the prefix
    expect((await api(server.url, 'GET', '/v1/suggest?q=')).json.error.message).toMatch(/q/);
  });

  it('typo_tolerance=false searches the words as typed', async () => {
    const res = await search('q=pizzza&limit=5&typo_tolerance=false&explain=true');
    expect(res.corrected_query).toBeUndefined();
    expect(res.results.every((r) => !r.explain?.lexical)).toBe(true);
    expect((await api(server.url, 'GET', '/v1/search?q=pizza&typo_tolerance=maybe')).json.error.message).toMatch(/typo_tolerance/);
  });

  it('leaves known words alone, and knows a merchant written a moment ago', async () => {
    expect((await search('q=half+price+pizza')).corrected_query).toBeUndefined();
    await server.engine.upsertCoupons([makeCoupon('zb-1', { title: 'Gelato flight', merchant: { id: 'm-zb', name: 'Zanzibella Gelateria' } })]);
    await server.engine.waitForIndexing();
    const res = await search('q=zanzibela+gelato');
    expect(res.corrected_query).toBe('zanzibella gelato');
    expect(res.results[0]!.coupon.title).toBe('Gelato flight');
  });
});
