/**
 * With Redis unreachable, search keeps answering and writes are refused with 503 + Retry-After
 * (nothing is silently accepted). The engine's Redis points at a closed port; the real Redis that
 * other tests use is untouched.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { api, startServer, testEnv, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

let server: TestServer;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const t = await tempDir('redis-down-');
  cleanup = t.cleanup;
  // Index a few coupons first on the embedded queue, then restart against a dead Redis.
  const seed = await startServer(testEnv(t.dir));
  await seed.engine.upsertCoupons(generateCatalogue({ size: 30, seed: 8 }));
  await seed.engine.queue.drained();
  await seed.close();
  server = await startServer(testEnv(t.dir, { REDIS_URL: 'redis://127.0.0.1:1', WORKER_IN_API: 'false' }), { runWorker: false });
}, 120_000);

afterAll(async () => {
  await server?.close().catch(() => undefined);
  await cleanup?.();
});

it('keeps serving searches and answers writes with 503 and Retry-After', async () => {
  const search = await api(server.url, 'GET', '/v1/search?q=pizza&limit=3');
  expect(search.status).toBe(200);
  expect(search.json.results.length).toBeGreaterThan(0);
  const [coupon] = generateCatalogue({ size: 1, seed: 99 });
  const write = await api(server.url, 'PUT', `/v1/coupons/${coupon!.id}`, coupon);
  expect(write.status).toBe(503);
  expect(write.json.error.code).toBe('unavailable');
  expect(Number(write.headers.get('retry-after'))).toBeGreaterThan(0);
  const ready = await api(server.url, 'GET', '/readyz');
  expect(ready.status).toBe(503);
  expect(ready.json.checks.queue.ok).toBe(false);
  expect(ready.json.checks.store.ok).toBe(true);
});
