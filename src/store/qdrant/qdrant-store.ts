import { QdrantClient } from '@qdrant/js-client-rest';
import type { Coupon } from '../../domain/coupon.ts';
import { ReindexRequiredError, UnavailableError } from '../../errors.ts';
import { newestById, planVersionedWrite } from '../versioned-write.ts';
import type {
  Hit,
  IndexedCoupon,
  SearchOptions,
  StoredCoupon,
  StoredVersion,
  StoreRebuild,
  StoreStats,
  UpsertResult,
  VectorSpace,
  VectorStore,
} from '../vector-store.ts';
import { chunks } from '../../util/chunks.ts';
import { toQdrantFilter } from './filter.ts';
import { CF, CF_DIMS, DENSE, USER, documentSparse, PAYLOAD_INDEXES, pointId, querySparse, SPARSE, toPayload } from './payload.ts';

export interface QdrantStoreOptions {
  url: string;
  apiKey: string | undefined;
  /** The alias the engine reads and writes; collections behind it are `<alias>_v<N>` (QDRANT_COLLECTION). */
  alias: string;
  /** Per request, in milliseconds (QDRANT_TIMEOUT_MS). */
  timeoutMs: number;
  /** Points per upsert request. */
  batchSize: number;
  /** Upsert requests in flight at once (unbounded concurrency breaks sockets: qdrant-js #58, #92). */
  concurrency: number;
  /** Attempts for a request that fails with 5xx, 429 or a timeout. */
  attempts: number;
}

/** Oldest server with the Query API (prefetch, sparse + dense) and collection metadata. */
const MIN_SERVER = [1, 16] as const;

type Payload = { coupon?: Coupon; version?: number };

/**
 * The scale-out store: Qdrant through its REST client. One collection per vector space behind an
 * alias (a rebuild creates the next collection and swaps the alias atomically), a named dense
 * vector `text`, a sparse `bm25` with server-side IDF, and a payload index for every filter field.
 *
 * Fusion stays in the engine (RRF in src/search/stages/fuse.ts) rather than in Qdrant's Query API:
 * one implementation serves both stores, and `explain` can report each retriever's own rank.
 */
export class QdrantStore implements VectorStore {
  readonly kind = 'qdrant';
  readonly client: QdrantClient;
  private readonly alias: string;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly attempts: number;
  private space: VectorSpace | undefined;

  constructor(options: QdrantStoreOptions) {
    // No request from the constructor: compatibility is checked in open().
    this.client = new QdrantClient({ url: options.url, apiKey: options.apiKey, timeout: options.timeoutMs, checkCompatibility: false });
    this.alias = options.alias;
    this.batchSize = options.batchSize;
    this.concurrency = options.concurrency;
    this.attempts = options.attempts;
  }

  async open(space: VectorSpace): Promise<VectorSpace> {
    const { version } = await this.call(() => this.client.versionInfo());
    const [major = 0, minor = 0] = version.split('.').map(Number);
    if (major !== 1 || minor < MIN_SERVER[1]) {
      throw new UnavailableError('qdrant', `server ${version} is not supported: need 1.${MIN_SERVER[1]} or newer in the 1.x line`);
    }
    await this.ensureUsersCollection();
    const current = await this.liveCollection();
    if (!current) {
      const name = `${this.alias}_v1`;
      await this.createCollection(name, space);
      await this.call(() => this.client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: name, alias_name: this.alias } }] }));
      this.space = space;
      return space;
    }
    this.space = await this.readSpace(current);
    return this.space;
  }

  async upsert(docs: readonly IndexedCoupon[]): Promise<UpsertResult> {
    return this.writeVersioned(this.alias, docs);
  }

  async delete(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.call(() => this.client.delete(this.alias, { wait: true, points: ids.map(pointId) }));
  }

  async get(ids: readonly string[], options: { withVectors?: boolean } = {}): Promise<Map<string, StoredCoupon>> {
    const out = new Map<string, StoredCoupon>();
    if (ids.length === 0) return out;
    const points = await this.call(() =>
      this.client.retrieve(this.alias, {
        ids: [...new Set(ids)].map(pointId),
        with_payload: ['coupon'],
        with_vector: options.withVectors ? [DENSE, CF] : false,
      }),
    );
    for (const p of points) {
      const coupon = (p.payload as Payload).coupon!;
      out.set(coupon.id, {
        coupon,
        vector: options.withVectors ? denseOf(p.vector) : undefined,
        behavior: options.withVectors ? denseOf(p.vector, CF) : undefined,
      });
    }
    return out;
  }

  async knn(vector: Float32Array, options: SearchOptions): Promise<Hit[]> {
    return this.search({ query: Array.from(vector), using: DENSE }, options);
  }

  async knnBehavior(vector: Float32Array, options: SearchOptions): Promise<Hit[]> {
    // Points without a `cf` vector are simply not candidates for a query on it.
    return this.search({ query: Array.from(vector), using: CF }, options);
  }

  async upsertUsers(vectors: ReadonlyMap<string, Float32Array>): Promise<void> {
    const points = [...vectors].map(([id, v]) => ({ id: pointId(`user:${id}`), vector: { [USER]: Array.from(v) }, payload: { user_id: id } }));
    for (const batch of chunks(points, this.batchSize)) await this.call(() => this.client.upsert(this.usersCollection, { wait: true, points: batch }));
  }

  async getUsers(ids: readonly string[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    if (ids.length === 0) return out;
    const points = await this.call(() =>
      this.client.retrieve(this.usersCollection, { ids: [...new Set(ids)].map((id) => pointId(`user:${id}`)), with_payload: ['user_id'], with_vector: [USER] }),
    );
    for (const p of points) out.set((p.payload as { user_id: string }).user_id, Float32Array.from((p.vector as Record<string, number[]>)[USER]!));
    return out;
  }

  async lexical(query: string, options: SearchOptions): Promise<Hit[]> {
    const sparse = querySparse(query);
    if (sparse.indices.length === 0) return [];
    return this.search({ query: sparse, using: SPARSE }, options);
  }

  async *scan(batchSize = 1000): AsyncIterable<IndexedCoupon[]> {
    let offset: string | number | undefined;
    do {
      const page = await this.call(() =>
        this.client.scroll(this.alias, { limit: batchSize, with_payload: ['coupon'], with_vector: [DENSE, CF], ...(offset !== undefined && { offset }) }),
      );
      yield page.points.map((p) => ({ coupon: (p.payload as Payload).coupon!, vector: denseOf(p.vector)!, behavior: denseOf(p.vector, CF) }));
      offset = (page.next_page_offset ?? undefined) as string | number | undefined;
    } while (offset !== undefined);
  }

  async *versions(): AsyncIterable<StoredVersion[]> {
    let offset: string | number | undefined;
    do {
      const page = await this.call(() =>
        this.client.scroll(this.alias, { limit: 10_000, with_payload: ['coupon_id', 'version'], with_vector: false, ...(offset !== undefined && { offset }) }),
      );
      yield page.points.map((p) => ({ id: String(p.payload!.coupon_id), version: Number(p.payload!.version) }));
      offset = (page.next_page_offset ?? undefined) as string | number | undefined;
    } while (offset !== undefined);
  }

  /** Qdrant keeps no version of a collection that a reader could compare: a serving index over it reconciles on its interval. */
  async changeToken(): Promise<undefined> {
    return undefined;
  }

  async beginRebuild(space: VectorSpace): Promise<StoreRebuild> {
    const old = await this.liveCollection();
    const n = Math.max(
      0,
      ...(await this.call(() => this.client.getCollections())).collections.map((c) => Number(new RegExp(`^${this.alias}_v(\\d+)$`).exec(c.name)?.[1] ?? 0)),
    );
    const name = `${this.alias}_v${n + 1}`;
    await this.createCollection(name, space);
    return {
      upsert: (docs) => this.writeVersioned(name, docs),
      commit: async () => {
        // One request, applied atomically: readers switch from the old collection to the new.
        await this.call(() =>
          this.client.updateCollectionAliases({
            actions: [{ delete_alias: { alias_name: this.alias } }, { create_alias: { collection_name: name, alias_name: this.alias } }],
          }),
        );
        this.space = space;
        if (old) await this.call(() => this.client.deleteCollection(old));
      },
      abort: async () => {
        await this.call(() => this.client.deleteCollection(name));
      },
    };
  }

  /** Qdrant builds its HNSW and payload indexes itself as points arrive. */
  async optimize(): Promise<void> {}

  async stats(): Promise<StoreStats> {
    const { count } = await this.call(() => this.client.count(this.alias, { exact: true }));
    return { count, annIndexed: true, space: this.space };
  }

  async close(): Promise<void> {}

  private async search(query: { query: number[] | { indices: number[]; values: number[] }; using: string }, options: SearchOptions): Promise<Hit[]> {
    const result = await this.call(() =>
      this.client.query(this.alias, {
        ...query,
        filter: toQdrantFilter(options.filter) as never,
        limit: options.k,
        with_payload: ['coupon'],
        with_vector: options.withVectors ? [DENSE, CF] : false,
      }),
    );
    return result.points.map((p) => {
      const coupon = (p.payload as Payload).coupon!;
      return {
        id: coupon.id,
        score: p.score,
        coupon,
        vector: options.withVectors ? denseOf(p.vector) : undefined,
        behavior: options.withVectors ? denseOf(p.vector, CF) : undefined,
      };
    });
  }

  /** Where the recommender's user embeddings live, beside the coupons (same space as `cf`). */
  get usersCollection(): string {
    return `${this.alias}_users`;
  }

  private async ensureUsersCollection(): Promise<void> {
    const { exists } = await this.call(() => this.client.collectionExists(this.usersCollection));
    if (exists) return;
    await this.call(() => this.client.createCollection(this.usersCollection, { vectors: { [USER]: { size: CF_DIMS, distance: 'Dot' } } }));
  }

  private async liveCollection(): Promise<string | undefined> {
    const { aliases } = await this.call(() => this.client.getAliases());
    return aliases.find((a) => a.alias_name === this.alias)?.collection_name;
  }

  private async readSpace(collection: string): Promise<VectorSpace> {
    const info = await this.call(() => this.client.getCollection(collection));
    const meta = (info.config as { metadata?: { space?: VectorSpace } }).metadata?.space;
    const vectors = info.config.params.vectors as Record<string, { size: number }> | undefined;
    if (!meta || !vectors?.[DENSE]) {
      throw new ReindexRequiredError(
        `collection '${collection}' was not created by this engine (no vector space metadata or no '${DENSE}' vector): run \`npm run reindex\``,
      );
    }
    if (vectors[DENSE].size !== meta.dims)
      throw new ReindexRequiredError(
        `collection '${collection}' has ${vectors[DENSE].size}-d vectors but its metadata says ${meta.dims}: run \`npm run reindex\``,
      );
    return meta;
  }

  private async createCollection(name: string, space: VectorSpace): Promise<void> {
    // Through the generated API: the 1.18 client's createCollection() drops `metadata` (server ≥ 1.16).
    await this.call(() =>
      this.client.api().createCollection({
        collection_name: name,
        vectors: { [DENSE]: { size: space.dims, distance: 'Cosine' }, [CF]: { size: CF_DIMS, distance: 'Dot' } },
        sparse_vectors: { [SPARSE]: { modifier: 'idf' } },
        metadata: { space: { ...space } },
      } as never),
    );
    for (const [field_name, field_schema] of PAYLOAD_INDEXES) {
      await this.call(() => this.client.createPayloadIndex(name, { field_name, field_schema, wait: true }));
    }
  }

  /**
   * Writes the newest version of each coupon. Current versions are read first (stale ones are
   * skipped and reported); points that exist are written with `update_filter: version < new`, so a
   * newer version written meanwhile by another worker still wins.
   */
  private async writeVersioned(collection: string, docs: readonly IndexedCoupon[]): Promise<UpsertResult> {
    const { newest, stale } = newestById(docs);
    const stored = new Map<string, number>();
    for (const chunk of chunks([...newest.keys()], 1000)) {
      const points = await this.call(() =>
        this.client.retrieve(collection, { ids: chunk.map(pointId), with_payload: ['coupon_id', 'version'], with_vector: false }),
      );
      for (const p of points) stored.set((p.payload as { coupon_id: string }).coupon_id, (p.payload as Payload).version ?? -1);
    }
    const plan = planVersionedWrite(newest, stale, stored);
    // New ids are plain upserts; replacements only apply over an older stored version.
    const inserts = plan.fresh.filter((d) => !stored.has(d.coupon.id));
    const updates = new Map<number, IndexedCoupon[]>();
    for (const d of plan.fresh) if (stored.has(d.coupon.id)) updates.set(d.coupon.version, [...(updates.get(d.coupon.version) ?? []), d]);
    const requests: Array<() => Promise<unknown>> = [];
    for (const batch of chunks(inserts, this.batchSize)) requests.push(() => this.upsertPoints(collection, batch));
    for (const [version, group] of updates) {
      for (const batch of chunks(group, this.batchSize)) {
        requests.push(() => this.upsertPoints(collection, batch, { must: [{ key: 'version', range: { lt: version } }] }));
      }
    }
    await runBounded(requests, this.concurrency);
    return { written: plan.fresh.map((d) => d.coupon.id), stale: plan.stale };
  }

  private upsertPoints(collection: string, docs: IndexedCoupon[], updateFilter?: object): Promise<unknown> {
    return this.call(() =>
      this.client.upsert(collection, {
        wait: true,
        points: docs.map((d) => ({
          id: pointId(d.coupon.id),
          vector: { [DENSE]: Array.from(d.vector), [SPARSE]: documentSparse(d.coupon), ...(d.behavior && { [CF]: Array.from(d.behavior) }) },
          payload: toPayload(d.coupon),
        })),
        ...(updateFilter && { update_filter: updateFilter as never }),
      }),
    );
  }

  /** Retries 5xx, 429 and timeouts with exponential backoff; maps what remains to UnavailableError. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    let delay = 200;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        const status = (error as { status?: number }).status;
        const name = (error as Error).name ?? '';
        const retriable = status === undefined || status >= 500 || status === 429 || /Timeout|ResourceExhausted/.test(name);
        if (!retriable) {
          throw new UnavailableError('qdrant', `request failed (${status}): ${(error as Error).message}`.slice(0, 500), { cause: error, retryAfterSeconds: 1 });
        }
        if (attempt >= this.attempts) {
          throw new UnavailableError('qdrant', `${(error as Error).message} after ${attempt} attempts`.slice(0, 500), { cause: error });
        }
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
  }
}

function denseOf(vector: unknown, name: string = DENSE): Float32Array | undefined {
  const v = (vector as Record<string, number[]> | undefined)?.[name];
  return v ? Float32Array.from(v) : undefined;
}

/** Runs the tasks with at most `limit` in flight: backpressure for bulk writes. */
async function runBounded(tasks: Array<() => Promise<unknown>>, limit: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
}
