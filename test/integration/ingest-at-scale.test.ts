/**
 * The write path under a steady stream: the store writer's commits and compactions keep LanceDB's
 * fragment count bounded while searches keep returning every acknowledged coupon; and a full queue
 * answers writes with 503 and Retry-After without losing any write it accepted. The users'
 * behaviour vectors, rewritten on every event batch, stay bounded the same way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StoreWriter } from '../../src/indexing/store-writer.ts';
import { createLogger } from '../../src/log.ts';
import { LanceDbStore } from '../../src/store/lancedb/lancedb-store.ts';
import { USER_COMMITS_BETWEEN_COMPACTIONS } from '../../src/store/lancedb/user-table.ts';
import { BEHAVIOR_DIMS } from '../../src/store/vector-store.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { makeCoupon, randomUnitVectors } from '../support/coupons.ts';
import { api, startServer, testEnv, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

const logger = createLogger('silent');

describe('ingest at scale', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A LanceDB store in `dir` (16-d vectors, exact kNN), closed after the test. */
  async function openStore(dir: string): Promise<LanceDbStore> {
    const store = new LanceDbStore({ dir, readConsistencyMs: 0, annThreshold: 1_000_000, rowCacheSize: 10_000 });
    cleanups.push(() => store.close());
    await store.open({ embedderId: 'test', dims: 16, textVersion: 1 });
    return store;
  }

  it('a steady stream of small writes and updates keeps the fragment count bounded, and searches stay correct during compaction', async () => {
    const t = await tempDir('ingest-stream-');
    cleanups.push(t.cleanup);
    const store = await openStore(t.dir);
    const bound = 8;
    const writer = new StoreWriter({
      store,
      logger,
      maxBatch: 1000,
      quietRefreshMs: 60_000,
      maintenanceShare: 0.1,
      maxCommitsBetweenMaintenance: bound,
      maxRowsBetweenMaintenance: Number.POSITIVE_INFINITY,
      rebuild: () => undefined,
    });

    const total = 240;
    const vectors = randomUnitVectors(total, 16, 5);
    const coupons = Array.from({ length: total }, (_, i) => makeCoupon(`s${i}`, { title: `Coupon stream${i}` }));
    const acknowledged: number[] = [];
    let writing = true;
    let searches = 0;
    const reader = (async () => {
      while (writing) {
        if (acknowledged.length > 0) {
          const i = acknowledged[Math.floor(Math.random() * acknowledged.length)]!;
          const [nearest] = await store.knn(vectors[i]!, { k: 1 });
          expect(nearest?.id).toBe(`s${i}`);
          const lexical = await store.lexical(`stream${i}`, { k: 5 });
          expect(lexical.map((h) => h.id)).toContain(`s${i}`);
          searches++;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    })();

    let mostFragments = 0;
    // Two coupons per commit, one commit after the other: the worst case for fragments. Then every
    // coupon again at version 2: updates rewrite rows in fragments a compaction running beside them
    // may be rewriting too, and one of the two commits must give way without losing either.
    for (const version of [1, 2])
      for (let i = 0; i < total; i += 2) {
        const outcomes = await Promise.all(
          [0, 1].map((j) => writer.upsert({ coupon: { ...coupons[i + j]!, version, title: `Coupon stream${i + j} v${version}` }, vector: vectors[i + j]! })),
        );
        expect(outcomes).toEqual(['written', 'written']);
        if (version === 1) acknowledged.push(i, i + 1);
        mostFragments = Math.max(mostFragments, (await store.stats()).fragments!);
      }
    writing = false;
    await reader;
    await writer.flush();

    expect(writer.stats.commits).toBeGreaterThanOrEqual(total);
    expect(writer.stats.maintenanceRuns).toBeGreaterThanOrEqual(total / bound / 2);
    // Maintenance runs beside the commits, and holds them once they are twice the bound ahead of it:
    // uncompacted fragments never outnumber twice the commits between two compactions, plus what compaction leaves.
    expect(mostFragments).toBeLessThanOrEqual(2 * bound + 3);
    expect(searches).toBeGreaterThan(20);
    expect((await store.stats()).count).toBe(total);
    const stored = await store.get(coupons.map((c) => c.id));
    expect([...stored.values()].map((d) => d.coupon.version)).toEqual(Array(total).fill(2));
  });

  it('compacts once the rows written since the last run reach their bound, far below the commit bound; without that bound it does not', async () => {
    /** Maintenance runs while ten commits of 100 rows go in, with the rows bound at `maxRows`. */
    async function runsDuring(maxRows: number): Promise<number> {
      const t = await tempDir('ingest-rows-');
      cleanups.push(t.cleanup);
      const store = await openStore(t.dir);
      // The commit bound and the time share (0.0001: a run waits 9,999 times its length) stay out of the way.
      const writer = new StoreWriter({
        store,
        logger,
        maxBatch: 100,
        quietRefreshMs: 60_000,
        maintenanceShare: 0.0001,
        maxCommitsBetweenMaintenance: 1000,
        maxRowsBetweenMaintenance: maxRows,
        rebuild: () => undefined,
      });
      const vectors = randomUnitVectors(1000, 16, 9);
      let n = 0;
      const commit = async () => {
        const docs = Array.from({ length: 100 }, () => n++).map((i) => ({ coupon: makeCoupon(`r${i}`, { title: `Row ${i}` }), vector: vectors[i]! }));
        await Promise.all(docs.map((d) => writer.upsert(d)));
        await expect.poll(() => writer.stats.maintaining, { timeout: 30_000 }).toBe(0);
      };
      await commit(); // the first run: nothing measured its length yet
      const before = writer.stats.maintenanceRuns;
      for (let i = 0; i < 9; i++) await commit();
      const runs = writer.stats.maintenanceRuns - before;
      await writer.flush();
      expect((await store.stats()).count).toBe(1000);
      return runs;
    }
    expect(await runsDuring(300)).toBeGreaterThanOrEqual(2);
    expect(await runsDuring(1_000_000)).toBe(0);
  });

  it('a steady stream of user-vector writes (one per event batch) keeps the user table compact, and reads see the newest vectors', async () => {
    const t = await tempDir('ingest-users-');
    cleanups.push(t.cleanup);
    const store = await openStore(t.dir);
    const users = 40;
    const vectorFor = (user: number, round: number) => Float32Array.from({ length: BEHAVIOR_DIMS }, (_, d) => (d === user % BEHAVIOR_DIMS ? round : 0));
    let mostFragments = 0;
    const rounds = 4 * USER_COMMITS_BETWEEN_COMPACTIONS;
    for (let round = 1; round <= rounds; round++) {
      // One event batch's users, one write after the other (the worst case); every fourth round two batches at once, which share a commit.
      const batch = (offset: number) =>
        new Map([0, 1, 2].map((k) => [`u${(round * 3 + k + offset) % users}`, vectorFor((round * 3 + k + offset) % users, round)]));
      await Promise.all(round % 4 === 0 ? [store.upsertUsers(batch(0)), store.upsertUsers(batch(1))] : [store.upsertUsers(batch(0))]);
      await store.users.flush();
      mostFragments = Math.max(mostFragments, (await store.users.stats()).fragments);
    }
    // Uncompacted fragments never outnumber the commits between two compactions, plus what compaction leaves.
    expect(mostFragments).toBeLessThanOrEqual(USER_COMMITS_BETWEEN_COMPACTIONS + 2);
    const stored = await store.getUsers(Array.from({ length: users }, (_, u) => `u${u}`));
    expect(stored.size).toBe(users);
    // Each user's vector is the one of the last round that wrote it.
    const lastRound = new Map<number, number>();
    for (let round = 1; round <= rounds; round++) {
      for (const offset of round % 4 === 0 ? [0, 1] : [0]) for (const k of [0, 1, 2]) lastRound.set((round * 3 + k + offset) % users, round);
    }
    for (const [u, round] of lastRound) expect(stored.get(`u${u}`)![u % BEHAVIOR_DIMS]).toBe(round);

    // Written behind: this process reads a vector at once; another process once it is committed (within 200 ms).
    const other = await openStore(t.dir);
    await store.upsertUsers(new Map([['u0', vectorFor(0, 1000)]]));
    expect((await store.getUsers(['u0'])).get('u0')![0]).toBe(1000);
    await expect.poll(async () => (await other.getUsers(['u0'])).get('u0')![0], { timeout: 5000 }).toBe(1000);
    expect((await store.users.stats()).pending).toBe(0);
  });

  it('past QUEUE_MAX_DEPTH coupon writes get 503 with Retry-After, and every accepted write is stored', async () => {
    const t = await tempDir('ingest-backpressure-');
    cleanups.push(t.cleanup);
    const server: TestServer = await startServer(testEnv(t.dir, { QUEUE_MAX_DEPTH: '30', WORKER_CONCURRENCY: '8' }));
    cleanups.push(() => server.close());
    const coupons = generateCatalogue({ size: 240, seed: 21 });
    const batches = Array.from({ length: 12 }, (_, i) => coupons.slice(i * 20, i * 20 + 20));

    // All batches at once: the queue holds at most ~30 jobs, so most are refused at first.
    const refusals: Array<{ status: number; retryAfter: string | null }> = [];
    await Promise.all(
      batches.map(async (batch) => {
        for (;;) {
          const res = await api(server.url, 'POST', '/v1/coupons/batch', { coupons: batch });
          if (res.status === 202) return;
          refusals.push({ status: res.status, retryAfter: res.headers.get('retry-after') });
          expect(res.json.error.message).toMatch(/QUEUE_MAX_DEPTH=30/);
          await new Promise((r) => setTimeout(r, 100));
        }
      }),
    );
    expect(refusals.length).toBeGreaterThan(0);
    for (const r of refusals) {
      expect(r.status).toBe(503);
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
    }
    await server.engine.queue.drained(120_000);
    const stored = await server.engine.store.get(coupons.map((c) => c.id));
    expect(stored.size).toBe(coupons.length);
  });
});
