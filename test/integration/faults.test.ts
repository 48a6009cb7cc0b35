/**
 * Dependencies failing and coming back, without a restart of the API: the vector store
 * (a Qdrant server, here the spec-checking emulator) going away answers 503 with Retry-After and
 * recovers by itself; SIGTERM drains the requests in flight and the queued jobs before exiting,
 * and nothing accepted is lost.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { spawnTs, waitFor } from '../support/processes.ts';
import { OpenApiValidator } from '../support/qdrant/openapi.ts';
import { QdrantEmulator } from '../support/qdrant/emulator.ts';
import { api, startServer, testEnv } from '../support/server.ts';
import { SHARED_DIR, tempDir } from '../support/tmp.ts';
import { existsSync } from 'node:fs';

const SPEC = path.join(SHARED_DIR, 'qdrant/openapi-1.19.json');
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe.skipIf(!existsSync(SPEC))(`the vector store goes away and comes back (needs ${SPEC})`, () => {
  it('answers 503 with Retry-After while the store is down, and serves again once it is back, without a restart', async () => {
    const t = await tempDir('store-down-');
    cleanups.push(t.cleanup);
    const emulator = new QdrantEmulator(new OpenApiValidator(SPEC));
    const url = await emulator.start();
    const port = Number(new URL(url).port);
    const server = await startServer(testEnv(t.dir, { VECTOR_STORE: 'qdrant', QDRANT_URL: url, QDRANT_TIMEOUT_MS: '1000' }));
    cleanups.push(
      () => server.close(),
      () => emulator.stop(),
    );
    await server.engine.upsertCoupons(generateCatalogue({ size: 40, seed: 4 }));
    await server.engine.queue.drained();
    expect((await api(server.url, 'GET', '/v1/search?q=pizza')).status).toBe(200);

    await emulator.stop();
    const down = await api(server.url, 'GET', '/v1/search?q=sushi');
    expect(down.status).toBe(503);
    expect(down.json.error.code).toBe('unavailable');
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    const ready = await api(server.url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json.checks.store.ok).toBe(false);

    await emulator.start(port);
    const back = await api(server.url, 'GET', '/v1/search?q=sushi');
    expect(back.status).toBe(200);
    expect(back.json.results.length).toBeGreaterThan(0);
    expect((await api(server.url, 'GET', '/readyz')).json.checks.store.ok).toBe(true);
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM lets in-flight requests finish and queued jobs complete; nothing accepted is lost', async () => {
    const t = await tempDir('drain-');
    cleanups.push(t.cleanup);
    const app = spawnTs('src/bin/api.ts', {
      DATA_DIR: t.dir,
      PORT: '0',
      LOG_LEVEL: 'info',
      SEED_SAMPLE: 'false',
      RANKER_MODEL_DIR: 'none',
      EMBED_THREADS: '1',
      RATE_LIMIT_IP_RPS: '0',
      SHUTDOWN_DELAY_MS: '3000',
    });
    cleanups.push(async () => void app.child.kill('SIGKILL'));
    const base = await waitFor('the API to listen', () => /"url":"(http:[^"]+)"/.exec(app.output())?.[1], 60_000);
    const coupons = generateCatalogue({ size: 150, seed: 6 });
    expect((await api(base, 'POST', '/v1/coupons/batch', { coupons })).status).toBe(202);
    const event = { event_id: 'drain-1', user_id: 'u1', coupon_id: coupons[0]!.id, type: 'click', ts: new Date().toISOString() };
    expect((await api(base, 'POST', '/v1/events', { events: [event] })).status).toBe(202);

    // Requests in flight when the signal arrives.
    const inflight = Array.from({ length: 6 }, (_, i) => api(base, 'GET', `/v1/search?q=${['pizza', 'spa', 'car wash'][i % 3]}&limit=3`));
    await new Promise((r) => setTimeout(r, 20));
    app.child.kill('SIGTERM');
    // While it drains it reports not-ready (load balancers stop routing) but still answers.
    const ready = await waitFor(
      'not-ready while draining',
      async () => {
        const r = await api(base, 'GET', '/readyz');
        return r.status === 503 && r;
      },
      2500,
      50,
    );
    expect(ready.json.checks.shutdown.ok).toBe(false);
    const answers = await Promise.all(inflight);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await app.exited).toBe(0);
    expect(app.output()).toContain('shutting down');

    // Reopen the same data: every coupon and the event are there (drained, or resumed from the journal).
    const again = await startServer(testEnv(t.dir));
    cleanups.push(() => again.close());
    await again.engine.queue.drained();
    expect((await again.engine.store.stats()).count).toBe(coupons.length);
    expect(await again.engine.events.count()).toBe(1);
  }, 300_000);
});
