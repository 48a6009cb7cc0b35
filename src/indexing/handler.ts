import type { EmbeddingService } from '../embed/embedding-service.ts';
import { couponFacts } from '../events/coupon-facts.ts';
import type { EventStore } from '../events/event-store.ts';
import type { Logger } from '../log.ts';
import type { RecommenderService } from '../recommend/recommender-service.ts';
import type { VectorSpaceGuard } from '../store/vector-space-guard.ts';
import type { StoreRebuild, VectorStore } from '../store/vector-store.ts';
import { embeddingText } from '../text/coupon-text.ts';
import type { JobHandler } from './queue.ts';
import { StoreWriter } from './store-writer.ts';

export interface IndexerDeps {
  store: VectorStore;
  events: EventStore;
  /** When loaded, coupons get behaviour vectors and users get refreshed vectors after events. */
  recommender?: RecommenderService | undefined;
  embeddings: EmbeddingService;
  /** Whether stored vectors and the running embedder share a space (a reindex updates it). */
  spaceGuard: VectorSpaceGuard;
  logger: Logger;
  /** Rows per store commit at most. */
  writeBatch: number;
  /** Quiet time after writes before indexes are refreshed. */
  quietRefreshMs: number;
  /** Commits after which compaction runs whatever else is going on. */
  maxCommitsBetweenMaintenance: number;
  /** Rows written after which compaction runs whatever else is going on (what the next merge-inserts must read). */
  maxRowsBetweenMaintenance: number;
  /** The most of the writer's time compaction may take otherwise (0.05: 5 %). */
  maintenanceShare: number;
}

export interface Indexer {
  handle: JobHandler;
  /** Writes what is batched and refreshes indexes (before shutdown, or in tests). */
  flush(): Promise<void>;
  /** The process's group-committing writer (its counters feed /metrics). */
  readonly writer: StoreWriter;
  close(): Promise<void>;
}

/**
 * The job handlers behind every queue. Concurrent jobs share work: their texts are embedded in
 * one model call (the embedding service's batcher) and their rows group-committed by one
 * StoreWriter, which also keeps compaction and index upkeep in step with the stream of writes.
 */
export function createIndexer(deps: IndexerDeps): Indexer {
  const { store, embeddings, logger } = deps;
  let rebuild: StoreRebuild | undefined;

  const writer = new StoreWriter({
    store,
    logger,
    maxBatch: deps.writeBatch,
    quietRefreshMs: deps.quietRefreshMs,
    maintenanceShare: deps.maintenanceShare,
    maxCommitsBetweenMaintenance: deps.maxCommitsBetweenMaintenance,
    maxRowsBetweenMaintenance: deps.maxRowsBetweenMaintenance,
    rebuild: () => rebuild,
  });

  async function reindex(progress: (percent: number) => Promise<void>): Promise<{ coupons: number }> {
    if (rebuild) throw new Error('a reindex is already running in this worker');
    const total = (await store.stats()).count;
    const { space } = deps.spaceGuard;
    rebuild = await store.beginRebuild(space);
    let done = 0;
    try {
      for await (const batch of store.scan(512)) {
        const vectors = await embeddings.embedDocuments(batch.map((d) => embeddingText(d.coupon)));
        const docs = batch.map((d, i) => ({ coupon: d.coupon, vector: vectors[i]! }));
        const behaviors = deps.recommender ? await deps.recommender.couponVectors(docs) : [];
        await rebuild.upsert(docs.map((d, i) => ({ ...d, behavior: behaviors[i] })));
        done += batch.length;
        await progress(total ? Math.round((100 * done) / total) : 100);
      }
      await writer.flush();
      await rebuild.commit();
      deps.spaceGuard.markReindexed(space);
      logger.info({ coupons: done, space }, 'reindex committed');
      return { coupons: done };
    } catch (error) {
      await rebuild.abort();
      throw error;
    } finally {
      rebuild = undefined;
    }
  }

  /** Recomputes users' behaviour vectors from their recent positive coupons. */
  async function refreshUserVectors(users: string[]): Promise<void> {
    const vectors = new Map<string, Float32Array>();
    for (const userId of users) {
      const vector = await deps.recommender!.userVectorFor(await deps.events.userAffinity(userId), store);
      if (vector) vectors.set(userId, vector);
    }
    await store.upsertUsers(vectors);
  }

  return {
    async handle(job, context) {
      switch (job.type) {
        case 'upsert': {
          deps.spaceGuard.assertSame();
          const [vector] = await embeddings.embedDocuments([embeddingText(job.coupon)]);
          const [behavior] = deps.recommender ? await deps.recommender.couponVectors([{ coupon: job.coupon, vector: vector! }]) : [undefined];
          const outcome = await writer.upsert({ coupon: job.coupon, vector: vector!, behavior });
          return { id: job.coupon.id, version: job.coupon.version, outcome };
        }
        case 'delete':
          await writer.delete(job.id);
          return { id: job.id, deleted: true };
        case 'reindex':
          return reindex((p) => context.progress(p));
        case 'counters': {
          const { counted, users } = await deps.events.applyCounters(job.eventIds, (ids) => couponFacts(store, ids));
          if (deps.recommender && users.length) await refreshUserVectors(users);
          return { counted, users: users.length };
        }
      }
    },
    flush: () => writer.flush(),
    writer,
    async close() {
      await this.flush();
    },
  };
}
