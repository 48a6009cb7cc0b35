import { appendFile, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { Fifo } from '../util/fifo.ts';
import { readJsonLines } from '../util/json-lines.ts';
import { jobIdOf, type IndexJob } from './jobs.ts';
import { DEFAULT_RETRY, type JobCounts, type JobHandler, type JobInfo, type JobQueue, type RetryPolicy } from './queue.ts';

export interface InlineQueueOptions {
  handler: JobHandler;
  concurrency: number;
  /** Append-only journal; jobs added but not finished are run again after a crash. */
  journalPath: string;
  logger: Logger;
  retry?: RetryPolicy;
  /** Finished jobs remembered for `get()`. @defaultValue 50000 */
  keepCompleted?: number;
  /** Finished jobs after which the journal is rewritten with only the open ones (it also is whenever the queue goes idle). @defaultValue 5000 */
  compactJournalAfter?: number;
}

type JournalEntry = { op: 'add'; id: string; job: IndexJob; at: number } | { op: 'done'; id: string } | { op: 'failed'; id: string; error: string };

interface Entry {
  info: JobInfo;
  job: IndexJob;
}

/**
 * The queue of the embedded default (no Redis): jobs run in this process with the same handler,
 * retries and backoff as the BullMQ worker. Every add is journalled to disk before it is
 * acknowledged, and replayed at start-up until it completes or fails for good.
 */
export class InlineQueue implements JobQueue {
  readonly kind = 'inline';
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Fifo<string>();
  private running = 0;
  /** Jobs waiting, delayed or active: kept as a count so that idleness is O(1). */
  private unfinished = 0;
  /** Completed ids, oldest first, for forgetting them in order. */
  private readonly completedOrder = new Fifo<string>();
  /** Journal lines written since the last compaction that concern finished jobs. */
  private finishedLines = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly retry: RetryPolicy;
  private journalWrite: Promise<void> = Promise.resolve();
  /** Journal lines waiting for the next append. */
  private unwritten: string[] = [];

  private constructor(private readonly options: InlineQueueOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /** Opens the queue, replaying unfinished jobs from the journal. */
  static async open(options: InlineQueueOptions): Promise<InlineQueue> {
    const queue = new InlineQueue(options);
    await mkdir(path.dirname(options.journalPath), { recursive: true });
    await queue.replay();
    return queue;
  }

  async enqueue(jobs: readonly IndexJob[]): Promise<string[]> {
    const ids: string[] = [];
    const added: JournalEntry[] = [];
    for (const job of jobs) {
      const id = jobIdOf(job);
      ids.push(id);
      if (this.entries.has(id)) continue;
      this.entries.set(id, { job, info: { id, type: job.type, state: 'waiting', attempts: 0, createdAt: Date.now() } });
      this.unfinished++;
      added.push({ op: 'add', id, job, at: Date.now() });
    }
    await this.journal(added);
    for (const e of added) this.pending.push(e.id);
    this.pump();
    return ids;
  }

  async get(id: string): Promise<JobInfo | undefined> {
    const e = this.entries.get(id);
    return e ? { ...e.info } : undefined;
  }

  async failed(limit = 100): Promise<JobInfo[]> {
    return [...this.entries.values()]
      .filter((e) => e.info.state === 'failed')
      .map((e) => ({ ...e.info }))
      .sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0))
      .slice(0, limit);
  }

  async retryFailed(): Promise<number> {
    const failed = [...this.entries.values()].filter((e) => e.info.state === 'failed');
    for (const e of failed) {
      e.info = { ...e.info, state: 'waiting', attempts: 0, error: undefined, finishedAt: undefined };
      this.unfinished++;
      this.pending.push(e.info.id);
    }
    await this.journal(failed.map((e) => ({ op: 'add', id: e.info.id, job: e.job, at: Date.now() })));
    this.pump();
    return failed.length;
  }

  async counts(): Promise<JobCounts> {
    const counts: JobCounts = { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 };
    for (const e of this.entries.values()) if (e.info.state !== 'unknown') counts[e.info.state]++;
    return counts;
  }

  drained(timeoutMs = 120_000): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inline queue not drained after ${timeoutMs} ms`)), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async depth(): Promise<number> {
    return this.unfinished;
  }

  async ping(): Promise<void> {}

  /** Stops taking jobs and waits for the running ones; unfinished jobs stay in the journal. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running > 0) await new Promise((r) => setTimeout(r, 20));
    await this.journalWrite;
  }

  private isIdle(): boolean {
    return this.running === 0 && this.unfinished === 0;
  }

  private pump(): void {
    while (!this.closed && this.running < this.options.concurrency && this.pending.length > 0) {
      const id = this.pending.shift()!;
      const entry = this.entries.get(id);
      if (entry?.info.state !== 'waiting') continue;
      this.running++;
      void this.run(entry).finally(() => {
        this.running--;
        this.pump();
        if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async run(entry: Entry): Promise<void> {
    entry.info = { ...entry.info, state: 'active', attempts: entry.info.attempts + 1 };
    try {
      const result = await this.options.handler(entry.job, {
        progress: async (p) => {
          entry.info = { ...entry.info, progress: p };
        },
      });
      entry.info = { ...entry.info, state: 'completed', result, finishedAt: Date.now() };
      this.unfinished--;
      this.completedOrder.push(entry.info.id);
      await this.journal([{ op: 'done', id: entry.info.id }]);
      this.forgetOldCompleted();
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      if (entry.info.attempts < this.retry.attempts && !this.closed) {
        const delay = this.retry.backoffMs * 2 ** (entry.info.attempts - 1);
        entry.info = { ...entry.info, state: 'delayed', error: message };
        setTimeout(() => {
          entry.info = { ...entry.info, state: 'waiting' };
          this.pending.push(entry.info.id);
          this.pump();
        }, delay).unref();
      } else {
        entry.info = { ...entry.info, state: 'failed', error: message, finishedAt: Date.now() };
        this.unfinished--;
        this.options.logger.warn({ jobId: entry.info.id, request_id: entry.job.requestId, attempts: entry.info.attempts, err: error }, 'job failed');
        await this.journal([{ op: 'failed', id: entry.info.id, error: message }]);
      }
    }
  }

  private forgetOldCompleted(): void {
    const keep = this.options.keepCompleted ?? 50_000;
    while (this.entries.size > keep && this.completedOrder.length > 0) {
      const id = this.completedOrder.shift()!;
      if (this.entries.get(id)?.info.state === 'completed') this.entries.delete(id);
    }
  }

  /**
   * Appends lines to the journal; resolves once they are on disk. Lines that arrive while a write
   * runs go out together in the next append (group commit): one append per job would queue
   * behind each other, and a job holds its concurrency slot until its `done` line is written.
   */
  private journal(entries: JournalEntry[]): Promise<void> {
    if (entries.length === 0) return this.journalWrite;
    const text = entries.map((e) => JSON.stringify(e)).join('\n') + '\n';
    // A write already queued but not started takes these lines too.
    if (this.unwritten.push(text) === 1) this.journalWrite = this.journalWrite.then(() => this.appendUnwritten());
    this.finishedLines += entries.filter((e) => e.op === 'done').length;
    // A finished job's add and done lines are dead weight: when the queue goes idle, or past the
    // threshold once they outnumber the open jobs, rewrite the journal with the open and failed
    // jobs only, in the same write sequence so no line is lost. A rewrite costs O(open jobs), so it
    // waits for at least that many finished ones: the journal stays within open + 2 × max(open,
    // threshold) lines however long the process runs, at O(1) amortised cost per job.
    const threshold = this.options.compactJournalAfter ?? 5_000;
    if (this.finishedLines > 0 && (this.unfinished === 0 || (this.finishedLines >= threshold && this.finishedLines >= this.unfinished))) {
      this.finishedLines = 0;
      this.journalWrite = this.journalWrite.then(() => this.rewriteJournal());
    }
    return this.journalWrite;
  }

  private async appendUnwritten(): Promise<void> {
    const text = this.unwritten.join('');
    this.unwritten = [];
    await appendFile(this.options.journalPath, text);
  }

  /** The journal as it would be replayed: an add line per open or failed job (and its failure). */
  private async rewriteJournal(): Promise<void> {
    const kept: JournalEntry[] = [];
    for (const { job, info } of this.entries.values()) {
      if (info.state === 'completed' || info.state === 'unknown') continue;
      kept.push({ op: 'add', id: info.id, job, at: info.createdAt });
      if (info.state === 'failed') kept.push({ op: 'failed', id: info.id, error: info.error ?? '' });
    }
    const tmp = `${this.options.journalPath}.tmp`;
    await writeFile(tmp, kept.map((e) => JSON.stringify(e) + '\n').join(''));
    await rename(tmp, this.options.journalPath);
  }

  /** Re-queues unfinished jobs, restores failed ones, and compacts the journal to just those. */
  private async replay(): Promise<void> {
    const open = new Map<string, { job: IndexJob; at: number; error?: string }>();
    for (const e of await readJsonLines<JournalEntry>(this.options.journalPath)) {
      if (e.op === 'add') open.set(e.id, { job: e.job, at: e.at });
      else if (e.op === 'done') open.delete(e.id);
      else if (open.has(e.id)) open.get(e.id)!.error = e.error;
    }
    for (const [id, { job, at, error }] of open) {
      if (error !== undefined) {
        this.entries.set(id, { job, info: { id, type: job.type, state: 'failed', attempts: this.retry.attempts, error, createdAt: at } });
      } else {
        this.entries.set(id, { job, info: { id, type: job.type, state: 'waiting', attempts: 0, createdAt: at } });
        this.unfinished++;
        this.pending.push(id);
      }
    }
    await this.rewriteJournal();
    if (this.pending.length) this.options.logger.info({ jobs: this.pending.length }, 'resuming unfinished jobs from the journal');
    this.pump();
  }
}
