/**
 * The same engine on the Qdrant store, chosen by configuration alone (VECTOR_STORE=qdrant): writes
 * through the API and queue, searches, similar coupons and a reindex with an atomic alias switch.
 * Qdrant is the spec-checking emulator (no server can run here).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { QdrantEmulator } from '../support/qdrant/emulator.ts';
import { OpenApiValidator } from '../support/qdrant/openapi.ts';
import { waitFor } from '../support/processes.ts';
import { api, startServer, testEnv, type TestServer } from '../support/server.ts';
import { SHARED_DIR, tempDir } from '../support/tmp.ts';

const SPEC = path.join(SHARED_DIR, 'qdrant/openapi-1.19.json');

describe.skipIf(!existsSync(SPEC))('engine on VECTOR_STORE=qdrant (needs ../shared/qdrant)', () => {
  let emulator: QdrantEmulator;
  let server: TestServer;
  let cleanup: () => Promise<void>;
  const catalogue = generateCatalogue({ size: 150, seed: 11 });

  beforeAll(async () => {
    emulator = new QdrantEmulator(new OpenApiValidator(SPEC));
    const url = await emulator.start();
    const t = await tempDir('engine-qdrant-');
    cleanup = t.cleanup;
    server = await startServer(testEnv(t.dir, { VECTOR_STORE: 'qdrant', QDRANT_URL: url, QDRANT_COLLECTION: 'coupons' }));
    expect((await api(server.url, 'POST', '/v1/coupons/batch', { coupons: catalogue })).status).toBe(202);
    await server.engine.queue.drained();
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await emulator?.stop();
    await cleanup?.();
  });

  it('indexes, searches with filters and finds similar coupons', async () => {
    expect((await server.engine.store.stats()).count).toBe(catalogue.length);
    const res = await api(server.url, 'GET', '/v1/search?q=pizza+for+dinner&category=food&limit=5&explain=true');
    expect(res.status).toBe(200);
    expect(res.json.results.length).toBeGreaterThan(0);
    for (const r of res.json.results) expect(r.coupon.categories).toContain('food');
    expect(res.json.results.some((r: { explain: { lexical?: unknown } }) => r.explain.lexical)).toBe(true);
    const first = res.json.results[0].id;
    const similar = await api(server.url, 'GET', `/v1/coupons/${first}/similar?limit=3`);
    expect(similar.status).toBe(200);
    expect(similar.json.results.map((r: { id: string }) => r.id)).not.toContain(first);
  });

  it('reindexes into a new collection and switches the alias atomically', async () => {
    const job = (await api(server.url, 'POST', '/v1/reindex')).json.job_id;
    await waitFor('reindex', async () => (await api(server.url, 'GET', `/v1/jobs/${job}`)).json.state === 'completed');
    const aliasChange = emulator.requests.filter((r) => r.path === '/collections/aliases').at(-1)!;
    expect(aliasChange.body).toEqual({
      actions: [{ delete_alias: { alias_name: 'coupons' } }, { create_alias: { collection_name: 'coupons_v2', alias_name: 'coupons' } }],
    });
    expect(emulator.requests.some((r) => r.method === 'DELETE' && r.path === '/collections/coupons_v1')).toBe(true);
    expect((await server.engine.store.stats()).count).toBe(catalogue.length);
    expect((await api(server.url, 'GET', '/v1/search?q=massage')).status).toBe(200);
  });

  it('sent only requests that Qdrant 1.19 accepts, and parsed only responses it could send', () => {
    const invalid = emulator.requests.filter((r) => r.requestErrors.length || r.responseErrors.length);
    expect(invalid.map((r) => `${r.method} ${r.path}: ${[...r.requestErrors, ...r.responseErrors].join('; ')}`)).toEqual([]);
    expect(emulator.requests.length).toBeGreaterThan(20);
  });
});
