import type { Logger } from '../log.ts';
import type { IndexedCoupon, OptimizeOptions, StoreRebuild, VectorStore } from '../store/vector-store.ts';
import { outcomesOf } from '../store/versioned-write.ts';
import { MicroBatcher } from '../util/micro-batcher.ts';
import type { UpsertOutcome } from './jobs.ts';

export type WriteOp = { kind: 'upsert'; doc: IndexedCoupon } | { kind: 'delete'; id: string };
export type WriteOutcome = UpsertOutcome | 'deleted';

export interface StoreWriterOptions {
  store: VectorStore;
  logger: Logger;
  /** Rows per store commit at most. */
  maxBatch: number;
  /** Quiet time after the last write before a final index refresh. */
  quietRefreshMs: number;
  /** Maintenance runs at most this share of the writer's time (0.1: after ≥ 9× its last duration of writing). */
  maintenanceShare: number;
  /** Commits after which maintenance runs whatever the share: the bound on uncompacted fragments. */
  maxCommitsBetweenMaintenance: number;
  /**
   * Rows written after which maintenance runs whatever the share. A merge-insert reads every row
   * its `id` index does not cover yet, so a fast stream of large commits needs compaction (which
   * folds them into the index) sooner than the commit bound says; a slow stream of small commits
   * must not compact that often, as each run rewrites the table.
   */
  maxRowsBetweenMaintenance: number;
  /** The rebuild of a reindex in progress, which must not miss writes made while it scans. */
  rebuild: () => StoreRebuild | undefined;
}

/**
 * The one writer of a process's coupon rows. Writes from concurrent jobs are group-committed: what
 * arrives while a commit runs goes out in the next one (up to `maxBatch` rows), so a steady stream
 * makes few large commits. Store maintenance (compaction, index upkeep) keeps pace with the stream:
 * it starts after at most `maxCommitsBetweenMaintenance` commits or `maxRowsBetweenMaintenance`
 * rows, and otherwise once writing has gone on long enough that maintenance stays within
 * `maintenanceShare` of the time, and it runs beside the next commits rather than holding them
 * (Lance commits a compaction beside inserts; where one rewrites fragments a concurrent commit
 * updated, the later of the two retries). A run that keeps losing to such writes is retried, and
 * once the stream is twice the commit bound behind, one run holds the commits until it is done:
 * the fragment count stays bounded either way. A last refresh, which holds them too and waits for
 * a kNN index build, runs when writes go quiet.
 */
export class StoreWriter {
  private readonly batcher: MicroBatcher<WriteOp, WriteOutcome>;
  private commitsSinceMaintenance = 0;
  private rowsSinceMaintenance = 0;
  private lastMaintenanceEnd = Date.now();
  private lastMaintenanceMs = 0;
  private quietTimer: NodeJS.Timeout | undefined;
  /** Maintenance runs, one at a time. */
  private maintaining: Promise<void> = Promise.resolve();
  /** What commits wait for: a refresh, a flush, or a run the stream fell too far behind for. */
  private holding: Promise<void> = Promise.resolve();
  /** A run is started or queued: no other is started for the stream until it ends. */
  private running = false;
  /** The commits the run under way covers: uncompacted until it succeeds. */
  private commitsInRun = 0;
  /**
   * Counters for benchmarks and metrics: `maintaining` is 1 while a maintenance run is under way
   * (benchmarks wait for it to end); `maintenanceConflicts` counts runs that lost to a concurrent write.
   */
  readonly stats = { commits: 0, rows: 0, maintenanceRuns: 0, maintenanceMs: 0, maintenanceConflicts: 0, maintaining: 0 };

  constructor(private readonly options: StoreWriterOptions) {
    this.batcher = new MicroBatcher({ maxBatch: options.maxBatch, maxWaitMs: 10, run: (ops) => this.commit(ops) });
  }

  upsert(doc: IndexedCoupon): Promise<WriteOutcome> {
    return this.batcher.submit([{ kind: 'upsert', doc }]).then(([outcome]) => outcome!);
  }

  delete(id: string): Promise<WriteOutcome> {
    return this.batcher.submit([{ kind: 'delete', id }]).then(([outcome]) => outcome!);
  }

  /** Commits what is waiting and runs maintenance now (before shutdown, or in tests). */
  async flush(): Promise<void> {
    await this.batcher.flush();
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    await this.hold();
  }

  private async commit(ops: WriteOp[]): Promise<WriteOutcome[]> {
    // Writes are not quiet while a commit runs; a refresh that already started finishes first.
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    await this.holding;
    // Twice the bound behind (maintenance keeps losing to updates, or is slower than the stream): hold for one run.
    if (this.uncompactedCommits() >= 2 * this.options.maxCommitsBetweenMaintenance) await this.hold({ streaming: true });
    const out: WriteOutcome[] = new Array(ops.length);
    // Runs of the same kind keep arrival order between a delete and an upsert of one id.
    for (let start = 0; start < ops.length; ) {
      let end = start + 1;
      while (end < ops.length && ops[end]!.kind === ops[start]!.kind) end++;
      const run = ops.slice(start, end);
      if (run[0]!.kind === 'delete') {
        await this.options.store.delete(run.map((o) => (o as { id: string }).id));
        for (let i = start; i < end; i++) out[i] = 'deleted';
      } else {
        const docs = run.map((o) => (o as { doc: IndexedCoupon }).doc);
        const outcomes = await this.upsertDocs(docs);
        for (let i = start; i < end; i++) out[i] = outcomes[i - start]!;
      }
      this.stats.commits++;
      this.commitsSinceMaintenance++;
      start = end;
    }
    this.stats.rows += ops.length;
    this.rowsSinceMaintenance += ops.length;
    if (this.maintenanceDue()) void this.maintain({ streaming: true });
    this.scheduleQuietRefresh();
    return out;
  }

  private async upsertDocs(docs: IndexedCoupon[]): Promise<UpsertOutcome[]> {
    const result = await this.options.store.upsert(docs);
    const rebuild = this.options.rebuild();
    if (rebuild) await rebuild.upsert(docs);
    return outcomesOf(docs, result.written);
  }

  /** Commits since the last maintenance run that succeeded or is still running, and the ones it covers. */
  private uncompactedCommits(): number {
    return this.commitsSinceMaintenance + this.commitsInRun;
  }

  private maintenanceDue(): boolean {
    if (this.commitsSinceMaintenance === 0 || this.running) return false;
    if (this.commitsSinceMaintenance >= this.options.maxCommitsBetweenMaintenance) return true;
    if (this.rowsSinceMaintenance >= this.options.maxRowsBetweenMaintenance) return true;
    const share = this.options.maintenanceShare;
    return Date.now() - this.lastMaintenanceEnd >= (this.lastMaintenanceMs * (1 - share)) / share;
  }

  /** A maintenance run that commits wait for. */
  private hold(options?: OptimizeOptions): Promise<void> {
    this.holding = this.maintain(options);
    return this.holding;
  }

  /** Runs the store's maintenance once at a time; a failure is logged and retried on a later commit. */
  private maintain(options?: OptimizeOptions): Promise<void> {
    this.running = true;
    this.maintaining = this.maintaining
      .then(() => this.runMaintenance(options))
      .finally(() => {
        this.running = false;
      });
    return this.maintaining;
  }

  private async runMaintenance(options: OptimizeOptions | undefined): Promise<void> {
    if (this.commitsSinceMaintenance === 0) return;
    const started = Date.now();
    const commits = this.commitsSinceMaintenance;
    const rows = this.rowsSinceMaintenance;
    this.commitsSinceMaintenance = 0;
    this.rowsSinceMaintenance = 0;
    this.commitsInRun = commits;
    this.stats.maintaining = 1;
    try {
      await this.options.store.optimize(options);
    } catch (error) {
      this.commitsSinceMaintenance += commits;
      this.rowsSinceMaintenance += rows;
      const message = (error as Error).message ?? '';
      // A compaction that rewrote fragments a concurrent commit updated loses to it: expected under a stream.
      if (/preempted|conflict/i.test(message)) {
        this.stats.maintenanceConflicts++;
        this.options.logger.info({ commits: this.commitsSinceMaintenance }, 'store maintenance lost to a concurrent write; will retry');
      } else this.options.logger.warn({ err: error }, 'index maintenance failed; will retry after the next write');
    } finally {
      this.stats.maintaining = 0;
      this.commitsInRun = 0;
    }
    this.lastMaintenanceEnd = Date.now();
    this.lastMaintenanceMs = this.lastMaintenanceEnd - started;
    if (this.lastMaintenanceMs > 2000)
      this.options.logger.info({ ms: this.lastMaintenanceMs, commits }, 'store maintenance (compaction, index upkeep) took a while');
    this.stats.maintenanceRuns++;
    this.stats.maintenanceMs += this.lastMaintenanceMs;
  }

  private scheduleQuietRefresh(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => {
      this.quietTimer = undefined;
      // Never beside a commit: a commit cancels this timer when it starts and waits for a running refresh.
      void this.hold();
    }, this.options.quietRefreshMs);
    this.quietTimer.unref();
  }
}
