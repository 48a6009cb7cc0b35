import type * as lancedb from '@lancedb/lancedb';
import { idPredicates } from './filter-sql.ts';
import { guard } from './guard.ts';
import { toFloat32, userSchema } from './rows.ts';
import { createIdIndex } from './table-indexes.ts';

/** Commits between two compactions of the user table: its bound on fragments. */
export const USER_COMMITS_BETWEEN_COMPACTIONS = 32;
/** How long accepted vectors wait for company before they are committed. */
const COMMIT_DELAY_MS = 200;
/** The wait before a failed commit is tried again. */
const RETRY_MS = 1000;

/**
 * The users' behaviour vectors in their own LanceDB table, written behind. Every event batch
 * recomputes the vectors of its users. Written as one merge-insert per batch and never compacted,
 * the table gained a fragment and a version per batch, so each write (a merge on `id` reads every
 * fragment) and each read got slower for as long as the server ran, and every event request
 * waited for that write.
 *
 * Now a vector is visible to this process's reads as soon as it is accepted, and the vectors
 * accepted within `COMMIT_DELAY_MS` go out as one merge-insert (the newest vector of a user
 * winning); `id` has a BTREE index; every `USER_COMMITS_BETWEEN_COMPACTIONS` commits the table is
 * compacted in line with the writes, dropping versions older than a minute. **Bounds:** at most
 * that many fragments from commits plus those a compaction leaves; other processes see a vector
 * within `COMMIT_DELAY_MS` plus one commit. What a crash can lose is the last moment's vectors,
 * which are derived data: the events they come from are stored before, and the user's next event
 * recomputes them. `flush()` (and the store's `close()`) commit everything accepted.
 */
export class UserVectorTable {
  private table: lancedb.Table | undefined;
  /** Accepted, not yet committed: read before the table. */
  private readonly pending = new Map<string, Float32Array>();
  private timer: NodeJS.Timeout | undefined;
  /** Commits run one after another: each one waits for the one before. */
  private chain: Promise<void> = Promise.resolve();
  private commitsSinceCompaction = 0;

  constructor(private readonly connection: () => lancedb.Connection) {}

  /** Accepts the vectors: visible to `get` at once, committed within `COMMIT_DELAY_MS`. */
  async upsert(vectors: ReadonlyMap<string, Float32Array>): Promise<void> {
    if (vectors.size === 0) return;
    await this.open(); // a table that cannot be opened fails the caller, not a later commit
    for (const [id, vector] of vectors) this.pending.set(id, vector);
    this.schedule(COMMIT_DELAY_MS);
  }

  async get(ids: readonly string[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    const stored = ids.filter((id) => !this.pending.has(id));
    for (const id of ids) if (this.pending.has(id)) out.set(id, this.pending.get(id)!);
    if (stored.length === 0) return out;
    const users = await this.open();
    for (const where of idPredicates(stored)) {
      const rows = await guard(() => users.query().where(where).toArray());
      for (const r of rows) if (!this.pending.has(r.id)) out.set(r.id, toFloat32(r.vector));
    }
    return out;
  }

  /** Fragments and version of the table, and vectors not yet committed (tests, benchmarks). */
  async stats(): Promise<{ fragments: number; version: number; pending: number }> {
    const users = await this.open();
    const [stats, version] = await Promise.all([users.stats(), users.version()]);
    return { fragments: stats.fragmentStats.numFragments, version, pending: this.pending.size };
  }

  /** Commits everything accepted so far; rejects when that commit fails. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.commitPending();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.table?.close();
    this.table = undefined;
  }

  private async open(): Promise<lancedb.Table> {
    this.table ??= await guard(() => this.connection().createEmptyTable('users', userSchema(), { existOk: true }));
    return this.table;
  }

  private schedule(ms: number): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      // A failure is retried (the vectors stay pending and visible); flush() reports it.
      this.commitPending().catch(() => this.schedule(RETRY_MS));
    }, ms);
  }

  /** Commits what is pending once the commit under way has finished; what arrives meanwhile waits for the next. */
  private commitPending(): Promise<void> {
    const run = this.chain.then(() => this.commitOnce());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async commitOnce(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = new Map(this.pending);
    const users = await this.open();
    await guard(() =>
      users
        .mergeInsert('id')
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute([...batch].map(([id, vector]) => ({ id, vector }))),
    );
    // A vector replaced while the commit ran stays pending for the next one.
    for (const [id, vector] of batch) if (this.pending.get(id) === vector) this.pending.delete(id);
    if (++this.commitsSinceCompaction >= USER_COMMITS_BETWEEN_COMPACTIONS) {
      this.commitsSinceCompaction = 0;
      await createIdIndex(users);
      await guard(() => users.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) }));
    }
    if (this.pending.size > 0) this.schedule(COMMIT_DELAY_MS);
  }
}
