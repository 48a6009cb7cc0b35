/**
 * The paraphrase retriever through the API, with the shipped query bridge: a query whose words
 * the catalogue lacks ("car service" where titles say "oil change") is embedded again by USE-lite;
 * a query whose words the catalogue has, but not under the caller's filter ("oil change" among
 * fashion coupons), is not: that is no gap in vocabulary, and the sentence encoder is the
 * slowest thing a search can run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { api, type TestServer } from '../support/server.ts';
import { serveCatalogue, STORE_SETUPS } from '../support/stores.ts';

describe('paraphrase retrieval', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await serveCatalogue(STORE_SETUPS[0]!, generateCatalogue({ size: 600, seed: 3 }), { dirPrefix: 'paraphrase-' });
  }, 120_000);
  afterAll(() => server?.close());

  const search = async (params: string) => {
    const res = await api(server.url, 'GET', `/v1/search?${params}&limit=5&explain=true`);
    expect(res.status, res.text).toBe(200);
    const body = res.json as { results: Array<{ coupon: { title: string; categories: string[] } }>; explain: { stages: Record<string, { note: string }> } };
    return {
      titles: body.results.map((r) => r.coupon.title),
      categories: body.results.flatMap((r) => r.coupon.categories),
      note: body.explain.stages.retrieve!.note,
    };
  };

  it('embeds a query again by meaning when the catalogue lacks its words', async () => {
    const res = await search('q=car+service');
    expect(res.note).toContain('candidates by meaning (USE-lite through the query bridge)');
    expect(res.titles.some((t) => /oil/i.test(t))).toBe(true);
  });

  it('does not when the words are in the catalogue, only outside the filter', async () => {
    const res = await search('q=oil+change&category=fashion');
    expect(res.note).toContain('the catalogue has them outside it: no paraphrase retrieval');
    expect(res.note).not.toContain('USE-lite');
    expect(res.categories.every((c) => c === 'fashion')).toBe(true);
  });

  it('still does under a filter when the words fail without it too', async () => {
    const res = await search('q=car+service&category=automotive');
    expect(res.note).toContain('USE-lite through the query bridge');
    expect(res.categories.every((c) => c === 'automotive')).toBe(true);
  });
});
