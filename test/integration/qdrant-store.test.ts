/**
 * The Qdrant adapter. No Qdrant server can run on these machines, so the store contract suite runs
 * against an emulator that checks every request the adapter sends, and every response it parses,
 * against Qdrant's own OpenAPI document (../shared/qdrant/openapi-1.19.json). With QDRANT_URL set,
 * the same suite also runs against that live server.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesFilter } from '../../src/domain/filter.ts';
import { toQdrantFilter } from '../../src/store/qdrant/filter.ts';
import { documentSparse, pointId, querySparse, toPayload } from '../../src/store/qdrant/payload.ts';
import { QdrantStore } from '../../src/store/qdrant/qdrant-store.ts';
import { describeVectorStore } from '../contract/vector-store.contract.ts';
import { makeCoupon } from '../support/coupons.ts';
import { filterArb, randomCoupons } from '../support/filter-arbitraries.ts';
import { matches, QdrantEmulator } from '../support/qdrant/emulator.ts';
import { OpenApiValidator } from '../support/qdrant/openapi.ts';
import { SHARED_DIR } from '../support/tmp.ts';

/** The adapter's settings as config.ts sets them; each test overrides what it is about. */
const QDRANT_DEFAULTS = { apiKey: undefined, alias: 'coupons', timeoutMs: 10_000, batchSize: 256, concurrency: 2, attempts: 4 };

const SPEC = path.join(SHARED_DIR, 'qdrant/openapi-1.19.json');
const specMissing = existsSync(SPEC) ? undefined : `${SPEC} not found (../shared is absent)`;
const validator = specMissing ? undefined : new OpenApiValidator(SPEC);

if (specMissing) {
  describe.skip(`Qdrant adapter tests skipped: ${specMissing}`, () => {
    it('needs the Qdrant OpenAPI spec', () => {});
  });
} else {
  describeVectorStore('Qdrant (emulator checking every request and response against the 1.19 OpenAPI spec)', async () => {
    const emulator = new QdrantEmulator(validator!);
    const url = await emulator.start();
    return {
      store: new QdrantStore({ ...QDRANT_DEFAULTS, url, alias: `coupons_${randomUUID().slice(0, 8)}`, attempts: 1 }),
      async dispose() {
        await emulator.stop();
        expect(emulator.requests.length).toBeGreaterThan(0);
        const invalid = emulator.requests.filter((r) => r.requestErrors.length || r.responseErrors.length);
        expect(invalid.map((r) => ({ request: `${r.method} ${r.path}`, errors: [...r.requestErrors, ...r.responseErrors] }))).toEqual([]);
      },
    };
  });

  describe('the OpenAPI check itself', () => {
    it('rejects a body with a wrong field type, an unknown field path and an undeclared parameter', () => {
      const bad = validator!.validateRequest('PUT', '/collections/c/points', new URLSearchParams(), { points: [{ id: 'not-a-uuid', vector: 'oops' }] });
      expect(bad.length).toBeGreaterThan(0);
      expect(validator!.validateRequest('POST', '/collections/c/points/query', new URLSearchParams(), { limit: 'ten' }).join()).toMatch(/limit/);
      expect(validator!.validateRequest('GET', '/no/such/path', new URLSearchParams(), undefined)).toEqual(['no operation GET /no/such/path in the spec']);
      expect(validator!.validateRequest('PUT', '/collections/c/points', new URLSearchParams('wiat=true'), { points: [] }).join()).toMatch(/wiat/);
      expect(
        validator!.validateResponse('POST', '/collections/c/points/query', 200, { result: { points: [{ id: 1 }] }, status: 'ok', time: 0 }).length,
      ).toBeGreaterThan(0);
    });

    it('accepts what the adapter writes for a real coupon', () => {
      const c = makeCoupon('ok-1', { final_price: 12, original_price: 20, region: 'us-ny', tags: ['pizza'] });
      const body = {
        points: [{ id: pointId(c.id), vector: { text: [0.1, 0.2], bm25: documentSparse(c) }, payload: toPayload(c) }],
        update_filter: { must: [{ key: 'version', range: { lt: 3 } }] },
      };
      expect(validator!.validateRequest('PUT', '/collections/c/points', new URLSearchParams('wait=true'), body)).toEqual([]);
    });
  });

  describe('filter compilation to Qdrant JSON', () => {
    const coupons = randomCoupons();
    it('selects exactly what the reference evaluator selects, and every compiled filter fits the spec (600 random filters)', () => {
      fc.assert(
        fc.property(filterArb, (filter) => {
          const compiled = toQdrantFilter(filter)!;
          expect(validator!.validateRequest('POST', '/collections/c/points/count', new URLSearchParams(), { filter: compiled, exact: true })).toEqual([]);
          for (const c of coupons) expect(matches(toPayload(c), compiled as never), JSON.stringify(filter)).toBe(matchesFilter(c, filter));
        }),
        { numRuns: 600, seed: 7 },
      );
    });

    it('sends lexical queries as sparse vectors of the engine tokenizer', () => {
      expect(querySparse('Pizzas, pizza!').indices).toHaveLength(1);
      expect(querySparse('the and of')).toEqual({ indices: [], values: [] });
    });
  });

  describe('failures', () => {
    it('retries 5xx and 429 with backoff, and fails fast on a 4xx', async () => {
      const emulator = new QdrantEmulator(validator!);
      const store = new QdrantStore({ ...QDRANT_DEFAULTS, url: await emulator.start(), attempts: 4 });
      await store.open({ embedderId: 'x', dims: 4, textVersion: 1 });
      emulator.failNext(503, 429, 500);
      const started = Date.now();
      expect((await store.stats()).count).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(200 + 400 + 800); // exponential backoff
      emulator.failNext(400);
      await expect(store.stats()).rejects.toMatchObject({ code: 'unavailable', status: 503 });
      emulator.failNext(503, 503, 503, 503);
      await expect(store.stats()).rejects.toThrow(/after 4 attempts/);
      await emulator.stop();
    });

    it('creates the users collection for user embeddings beside the coupons', async () => {
      const emulator = new QdrantEmulator(validator!);
      const store = new QdrantStore({ ...QDRANT_DEFAULTS, url: await emulator.start(), alias: 'shop' });
      await store.open({ embedderId: 'x', dims: 4, textVersion: 1 });
      const created = emulator.requests.find((r) => r.method === 'PUT' && r.path === '/collections/shop_users');
      expect(created?.body).toEqual({ vectors: { user: { size: 64, distance: 'Dot' } } });
      await emulator.stop();
    });
  });

  describe('start-up checks', () => {
    it('refuses a server older than the Query API, naming the version', async () => {
      const emulator = new QdrantEmulator(validator!, '1.9.2');
      const store = new QdrantStore({ ...QDRANT_DEFAULTS, url: await emulator.start(), attempts: 1 });
      await expect(store.open({ embedderId: 'x', dims: 4, textVersion: 1 })).rejects.toThrow(/1\.9\.2 is not supported/);
      await emulator.stop();
    });

    it('reports the stored vector space so the engine can demand a reindex', async () => {
      const emulator = new QdrantEmulator(validator!);
      const url = await emulator.start();
      const alias = `coupons_${randomUUID().slice(0, 8)}`;
      await new QdrantStore({ ...QDRANT_DEFAULTS, url, alias }).open({ embedderId: 'use-lite@1', dims: 512, textVersion: 1 });
      const reopened = await new QdrantStore({ ...QDRANT_DEFAULTS, url, alias }).open({ embedderId: 'other@1', dims: 384, textVersion: 1 });
      expect(reopened).toEqual({ embedderId: 'use-lite@1', dims: 512, textVersion: 1 });
      await emulator.stop();
    });
  });
}

const QDRANT_URL = process.env.QDRANT_URL;
if (QDRANT_URL) {
  describeVectorStore(`Qdrant live at ${QDRANT_URL}`, async () => {
    const store = new QdrantStore({ ...QDRANT_DEFAULTS, url: QDRANT_URL, apiKey: process.env.QDRANT_API_KEY, alias: `test_${randomUUID().slice(0, 8)}` });
    return {
      store,
      async dispose() {
        const { collections } = await store.client.getCollections();
        for (const c of collections) if (c.name.startsWith((store as unknown as { alias: string }).alias)) await store.client.deleteCollection(c.name);
      },
    };
  });
} else {
  describe.skip('VectorStore contract: Qdrant live — skipped: set QDRANT_URL to run it against a real server', () => {
    it('runs against a live Qdrant', () => {});
  });
}
