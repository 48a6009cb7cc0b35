/**
 * Nothing is lost when a worker dies or Redis restarts in the middle of a bulk index of 10,000
 * coupons: SIGKILL the worker mid-batch, queue newer versions of some coupons (and stale re-sends)
 * while it is down, start a new worker, restart Redis while that worker is busy, and every coupon
 * ends up stored exactly once at its latest version, with no failed jobs. The Redis here is a
 * private redis-server (AOF, fsync always) on its own port, so restarting it touches no other test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import type { Coupon } from '../../src/domain/coupon.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { spawnTs, waitFor, type Spawned } from '../support/processes.ts';
import { startServer, testEnv, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

const COUPONS = 10_000;
const port = 16_379 + Math.floor(Math.random() * 1000);
const redisUrl = `redis://127.0.0.1:${port}`;
let dir: { dir: string; cleanup: () => Promise<void> } | undefined;
let server: TestServer | undefined;
let redis: ChildProcess | undefined;
const workers: Spawned[] = [];

async function startRedis(): Promise<void> {
  redis = spawn(
    'redis-server',
    ['--port', String(port), '--dir', dir!.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  probe.on('error', () => undefined);
  await waitFor(
    'redis-server to answer',
    () =>
      probe.ping().then(
        () => true,
        () => false,
      ),
    20_000,
  );
  probe.disconnect();
}

async function stopRedis(): Promise<void> {
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: 0 });
  await admin.call('SHUTDOWN').catch(() => undefined); // the connection closes as Redis exits
  admin.disconnect();
  await new Promise((r) => (redis!.exitCode !== null ? r(undefined) : redis!.once('exit', r)));
}

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await server?.close().catch(() => undefined);
  redis?.kill('SIGKILL');
  await dir?.cleanup();
});

it(`a worker SIGKILL and a Redis restart during a bulk index of ${COUPONS} coupons: each coupon once, at its latest version`, async () => {
  dir = await tempDir('bulk-faults-');
  await startRedis();
  const env = testEnv(dir.dir, { REDIS_URL: redisUrl, WORKER_IN_API: 'false', WORKER_CONCURRENCY: '64', WORKER_LOCK_MS: '3000' });
  const startWorker = async () => {
    const w = spawnTs('src/bin/worker.ts', { ...env, EMBED_THREADS: '2', LOG_LEVEL: 'info' });
    workers.push(w);
    await waitFor('worker start', () => w.output().includes('worker started'), 60_000);
    return w;
  };

  const first = await startWorker();
  server = await startServer(env, { runWorker: false });
  const { engine } = server;
  const v1 = generateCatalogue({ size: COUPONS, seed: 3 });
  for (let i = 0; i < v1.length; i += 1000) await engine.upsertCoupons(v1.slice(i, i + 1000));

  // 1. Kill the worker while jobs are active and some, not all, are done.
  await waitFor('some jobs to complete', async () => (await engine.queue.counts()).completed >= 1000, 300_000, 50);
  first.child.kill('SIGKILL');
  await first.exited;
  const afterKill = await engine.queue.counts();
  expect(afterKill.completed).toBeLessThan(COUPONS);

  // While no worker runs: newer versions of 300 coupons, and a stale re-send of 100 old ones.
  const v2: Coupon[] = v1.slice(0, 300).map((c) => ({ ...c, title: `${c.title} (v2)`, version: c.version + 1 }));
  await engine.upsertCoupons(v2);
  await engine.upsertCoupons(v1.slice(0, 100));

  // 2. A new worker; restart Redis while it is busy.
  await startWorker();
  await waitFor('the new worker to make progress', async () => (await engine.queue.counts()).completed >= afterKill.completed + 1500, 300_000, 50);
  await stopRedis();
  await new Promise((r) => setTimeout(r, 1500));
  await startRedis();
  // The API answers 503 for queue operations until its connection is back (by itself).
  await waitFor(
    'the API to reconnect to Redis',
    () =>
      engine.queue.ping().then(
        () => true,
        () => false,
      ),
    30_000,
  );

  await engine.queue.drained(900_000);
  expect(await engine.queue.failed()).toEqual([]);
  await waitFor('the API to see every coupon', async () => (await engine.store.stats()).count === COUPONS, 60_000);
  // The API reads another process's writes within its read-consistency bound (1 s): the worker's
  // last commits (the v2 updates come near the end of the queue) may land just before the drain.
  await waitFor(
    "the API to read the worker's last writes",
    async () => [...(await engine.store.get(v2.map((c) => c.id))).values()].every((d) => d.coupon.title.endsWith('(v2)')),
    60_000,
  );
  const stored: Coupon[] = [];
  for await (const batch of engine.store.scan(1000)) stored.push(...batch.map((d) => d.coupon));
  const ids = stored.map((c) => c.id);
  expect(new Set(ids).size).toBe(ids.length); // exactly once
  expect(ids.length).toBe(COUPONS);
  const byId = new Map(stored.map((c) => [c.id, c]));
  for (const c of v2) expect(byId.get(c.id)).toMatchObject({ version: c.version, title: c.title });
  for (const c of v1.slice(300)) expect(byId.get(c.id)).toMatchObject({ version: c.version, title: c.title });
}, 1_200_000);
