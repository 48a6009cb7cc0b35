/**
 * The in-memory serving index (`src/store/serving`): the store contract over LanceDB, exact and
 * through the IVF partition; its compiled filters against the reference evaluator; another
 * process's writes, deletes and reindex followed; IVF recall on real titles with the real embedder.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { matchesFilter } from '../../src/domain/filter.ts';
import { l2normalize } from '../../src/embed/embedder.ts';
import { LanceDbStore } from '../../src/store/lancedb/lancedb-store.ts';
import { MemoryIndex } from '../../src/store/serving/memory-index.ts';
import { ServingStore, type ServingStoreOptions } from '../../src/store/serving/serving-store.ts';
import type { IndexedCoupon, VectorSpace } from '../../src/store/vector-store.ts';
import { StaticVectorEmbedder } from '../../src/embed/static-vectors/static-vector-embedder.ts';
import { corpusOf, loadJudgments, productCoupon } from '../../src/eval/home-depot.ts';
import { loadConfig } from '../../src/config.ts';
import { describeVectorStore, seededCorpus } from '../contract/vector-store.contract.ts';
import { makeCoupon, randomUnitVectors } from '../support/coupons.ts';
import { filterArb, randomCoupons } from '../support/filter-arbitraries.ts';
import { exactKnn } from '../support/oracle.ts';
import { waitFor } from '../support/processes.ts';
import { SHARED_DIR, tempDir } from '../support/tmp.ts';

const EXACT: ServingStoreOptions = { exactRows: 10_000, probeShare: 0.1, readConsistencyMs: 0, reconcileMs: 5000 };

function servingOver(dir: string, options: ServingStoreOptions, annThreshold = 5000) {
  return new ServingStore(new LanceDbStore({ dir, annThreshold, readConsistencyMs: 0, rowCacheSize: 10_000 }), options);
}

describeVectorStore('serving index over LanceDB (exact)', async ({ annThreshold }) => {
  const { dir, cleanup } = await tempDir('serving-contract-');
  return { store: servingOver(dir, EXACT, annThreshold), dispose: cleanup };
});

// From 50 rows every kNN goes through the IVF lists; scoring every list must give the exact answer,
// which holds the lists' bookkeeping (placement, replacement, removal, retraining) to account.
describeVectorStore('serving index over LanceDB (IVF lists, all probed)', async ({ annThreshold }) => {
  const { dir, cleanup } = await tempDir('serving-ivf-contract-');
  return { store: servingOver(dir, { ...EXACT, exactRows: 50, probeShare: 1 }, annThreshold), dispose: cleanup };
});

it('compiled filters select exactly what the reference evaluator selects (500 random filters)', () => {
  const coupons = randomCoupons();
  const index = new MemoryIndex(4, EXACT);
  const vectors = randomUnitVectors(coupons.length, 4, 1);
  coupons.forEach((coupon, i) => index.put({ coupon, vector: vectors[i]! }));
  fc.assert(
    fc.property(filterArb, (filter) => {
      expect(index.select(filter)).toEqual(coupons.filter((c) => matchesFilter(c, filter)).map((c) => c.id));
    }),
    { numRuns: 500, seed: 42 },
  );
});

describe('another process’s writes', () => {
  const SPACE: VectorSpace = { embedderId: 'test@1', dims: 16, textVersion: 1 };
  let cleanup: (() => Promise<void>) | undefined;
  const stores: ServingStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await cleanup?.();
  });
  /** Two stores on one data dir, as two processes would hold them. */
  const twoProcesses = async (prefix: string) => {
    const t = await tempDir(prefix);
    cleanup = t.cleanup;
    const writer = servingOver(t.dir, EXACT);
    const reader = servingOver(t.dir, EXACT);
    stores.push(writer, reader);
    return { writer, reader };
  };

  it('are searchable, updates replace, deletes vanish, and this process’s own writes survive reconciliation', async () => {
    const { writer, reader } = await twoProcesses('serving-two-');
    await writer.open(SPACE);
    const docs = seededCorpus(60);
    await writer.upsert(docs.slice(0, 40));
    await reader.open(SPACE);
    expect((await reader.lexical('pizza', { k: 100 })).length).toBe(8);
    await writer.upsert(docs.slice(40));
    const renamed: IndexedCoupon = { ...docs[1]!, coupon: { ...docs[1]!.coupon, version: 99, title: 'Zucchini festival' } };
    await writer.upsert([renamed]);
    await writer.delete(['c0', 'c5']);
    // The reader's own write, made before it has caught up, must not be undone by its catching up.
    const own: IndexedCoupon = { ...docs[2]!, coupon: makeCoupon('reader-own', { title: 'Walnut cake' }) };
    await reader.upsert([own]);
    expect((await reader.lexical('zucchini', { k: 5 })).map((h) => h.id)).toEqual(['c1']);
    expect((await reader.lexical('walnut', { k: 5 })).map((h) => h.id)).toEqual(['reader-own']);
    const pizza = (await reader.lexical('pizza', { k: 100 })).map((h) => h.id).sort();
    expect(pizza).toEqual(
      docs
        .filter((d) => d.coupon.title.startsWith('Pizza') && !['c0', 'c5'].includes(d.coupon.id))
        .map((d) => d.coupon.id)
        .sort(),
    );
    const [q] = randomUnitVectors(1, 16, 3);
    const all = [...docs.filter((d) => !['c0', 'c5', 'c1'].includes(d.coupon.id)), renamed, own];
    expect((await reader.knn(q!, { k: 100 })).map((h) => h.id)).toEqual(exactKnn(all, q!, 100).map((h) => h.id));
    expect((await reader.get(['c1'])).get('c1')!.coupon.title).toBe('Zucchini festival');
  });

  it('landing while one of this process’s own writes is in flight, are found by the comparison that runs in the background', async () => {
    const t = await tempDir('serving-own-');
    cleanup = t.cleanup;
    // The other process writes between this one's version check and its own write: the token this
    // process then takes as its own also covers the other's rows, which only the comparison finds.
    let during: (() => Promise<unknown>) | undefined;
    const durable = new (class extends LanceDbStore {
      override async upsert(docs: readonly IndexedCoupon[]) {
        const other = during;
        during = undefined;
        await other?.();
        return super.upsert(docs);
      }
    })({ dir: t.dir, annThreshold: 5000, readConsistencyMs: 0, rowCacheSize: 10_000 });
    const self = new ServingStore(durable, { ...EXACT, reconcileMs: 50 });
    const other = servingOver(t.dir, EXACT);
    stores.push(self, other);
    await self.open(SPACE);
    await other.open(SPACE);
    const docs = seededCorpus(30);
    await self.upsert(docs.slice(0, 10));
    during = () => other.upsert(docs.slice(20));
    await self.upsert(docs.slice(10, 20));
    const [q] = randomUnitVectors(1, 16, 5);
    const ids = async () => (await self.knn(q!, { k: 100 })).map((h) => h.id).sort();
    await waitFor('the other process’s rows', async () => (await ids()).length === 30, 10_000);
    expect(await ids()).toEqual(
      exactKnn(docs, q!, 100)
        .map((h) => h.id)
        .sort(),
    );
  });

  it('follow a reindex into another vector space', async () => {
    const { writer, reader } = await twoProcesses('serving-reindex-');
    await writer.open(SPACE);
    await writer.upsert(seededCorpus(20));
    await reader.open(SPACE);
    const rebuild = await writer.beginRebuild({ embedderId: 'test@2', dims: 8, textVersion: 1 });
    await rebuild.upsert(seededCorpus(10).map((d) => ({ coupon: d.coupon, vector: l2normalize(d.vector.slice(0, 8)) })));
    await rebuild.commit();
    const [q] = randomUnitVectors(1, 8, 4);
    expect(await reader.knn(q!, { k: 50 })).toHaveLength(10);
    expect(await writer.knn(q!, { k: 50 })).toHaveLength(10);
  });
});

const JUDGMENTS = path.join(SHARED_DIR, 'data/home-depot/judgments.csv');

it.skipIf(!existsSync(JUDGMENTS))(
  'IVF kNN keeps recall@10 ≥ 0.9 against exact search on 45,713 Home Depot titles with the default embedder (needs ../shared)',
  async () => {
    const embedder = new StaticVectorEmbedder({ cacheDir: path.resolve(import.meta.dirname, '../../.cache/static-vectors') });
    await embedder.ready();
    const judgments = await loadJudgments(JUDGMENTS);
    const docs: IndexedCoupon[] = corpusOf(judgments).map((p) => ({ coupon: productCoupon(p.id, p.title), vector: embedder.embedOne(p.title) }));
    const index = new MemoryIndex(embedder.dims, { exactRows: 10_000, probeShare: loadConfig({}).servingIndex!.probeShare });
    for (const doc of docs) index.put(doc);
    await index.settled();
    expect(index.partitioned).toBe(true);
    const queries = [...new Set(judgments.map((j) => j.query))].slice(0, 200).map((q) => embedder.embedOne(q));
    let found = 0;
    for (const q of queries) {
      const expected = new Set(exactKnn(docs, q, 10).map((h) => h.id));
      found += index.knn(q, 10, undefined, false).filter((h) => expected.has(h.id)).length;
    }
    expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.9);
  },
);
