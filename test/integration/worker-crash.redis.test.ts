/**
 * Nothing is lost when a worker dies: SIGKILL the worker in the middle of a bulk index, queue newer
 * versions of some coupons while it is down, start a new worker, and every coupon ends up stored
 * exactly once at its latest version. Needs Redis.
 */
import { afterAll, expect, it } from 'vitest';
import { BullQueue } from '../../indexer/bullmq-queue.ts';
import type { Coupon } from '../../src/domain/coupon.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { spawnTs, waitFor, type Spawned } from '../support/processes.ts';
import { REDIS_URL, startServer, testEnv, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

let dir: { dir: string; cleanup: () => Promise<void> } | undefined;
let server: TestServer | undefined;
const workers: Spawned[] = [];
let prefix = '';

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await server?.close();
  if (prefix) {
    const queue = new BullQueue({ redisUrl: REDIS_URL, prefix });
    await queue.obliterate();
    await queue.close();
  }
  await dir?.cleanup();
});

it('a worker SIGKILLed mid-batch loses nothing and duplicates nothing; the latest version wins', async () => {
  dir = await tempDir('worker-crash-');
  const env = testEnv(dir.dir, { REDIS_URL, WORKER_IN_API: 'false', WORKER_CONCURRENCY: '64', WORKER_LOCK_MS: '2000' });
  prefix = env.QUEUE_PREFIX!;
  const startWorker = async () => {
    const w = spawnTs('indexer/worker.ts', { ...env, LOG_LEVEL: 'info' });
    workers.push(w);
    await waitFor('worker start', () => w.output().includes('worker started'), 60_000);
    return w;
  };

  const first = await startWorker();
  server = await startServer(env, { runWorker: false });
  const { engine } = server;
  const v1 = generateCatalogue({ size: 600, seed: 3 });
  await engine.upsertCoupons(v1);

  // Kill it while jobs are active and some, not all, are done.
  await waitFor('some jobs to complete', async () => (await engine.queue.counts()).completed >= 100, 120_000, 20);
  const before = await engine.queue.counts();
  first.child.kill('SIGKILL');
  await first.exited;
  expect(before.completed).toBeLessThan(v1.length);
  expect(before.active + before.waiting).toBeGreaterThan(0);

  // While no worker runs: newer versions of 100 coupons, and a stale re-send of old ones.
  const v2: Coupon[] = v1.slice(0, 100).map((c) => ({ ...c, title: `${c.title} (v2)`, version: c.version + 1 }));
  await engine.upsertCoupons(v2);
  await engine.upsertCoupons(v1.slice(0, 50));

  await startWorker();
  await engine.queue.drained(600_000);
  expect(await engine.queue.failed()).toEqual([]);

  const stored: Coupon[] = [];
  await waitFor('the API to see every coupon', async () => (await engine.store.stats()).count === v1.length, 30_000);
  for await (const batch of engine.store.scan(500)) stored.push(...batch.map((d) => d.coupon));
  const ids = stored.map((c) => c.id);
  expect(new Set(ids).size).toBe(ids.length); // exactly once
  expect(ids.length).toBe(v1.length);
  const byId = new Map(stored.map((c) => [c.id, c]));
  for (const c of v2) expect(byId.get(c.id)).toMatchObject({ version: c.version, title: c.title });
  for (const c of v1.slice(100)) expect(byId.get(c.id)).toMatchObject({ version: c.version, title: c.title });
});
