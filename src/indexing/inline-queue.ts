import { appendFile, mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { Fifo } from '../util/fifo.ts';
import { readJsonLines } from '../util/json-lines.ts';
import { nextTurn } from '../util/next-turn.ts';
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

/** Jobs serialised between two turns of the event loop when the journal is rewritten (~1 KB each). */
const REWRITE_SLICE = 1000;

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
  /** Jobs per state, kept as each job moves so that counts, depth and idleness are O(1) (metrics read them often). */
  private readonly tally: JobCounts = { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 };
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
      this.add(id, job, { id, type: job.type, state: 'waiting', attempts: 0, createdAt: Date.now() });
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
      this.move(e, { state: 'waiting', attempts: 0, error: undefined, finishedAt: undefined });
      this.pending.push(e.info.id);
    }
    await this.journal(failed.map((e) => ({ op: 'add', id: e.info.id, job: e.job, at: Date.now() })));
    this.pump();
    return failed.length;
  }

  async counts(): Promise<JobCounts> {
    return { ...this.tally };
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
    return this.unfinished();
  }

  async ping(): Promise<void> {}

  /** Stops taking jobs and waits for the running ones; unfinished jobs stay in the journal. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running > 0) await new Promise((r) => setTimeout(r, 20));
    await this.journalWrite;
  }

  private isIdle(): boolean {
    return this.running === 0 && this.unfinished() === 0;
  }

  /** Jobs waiting, delayed or active. */
  private unfinished(): number {
    return this.tally.waiting + this.tally.active + this.tally.delayed;
  }

  private add(id: string, job: IndexJob, info: JobInfo): void {
    this.entries.set(id, { job, info });
    if (info.state !== 'unknown') this.tally[info.state]++;
  }

  /** The one place a job changes state: its info is replaced (readers hold copies) and the tally follows. */
  private move(entry: Entry, change: Partial<JobInfo>): void {
    const from = entry.info.state;
    entry.info = { ...entry.info, ...change };
    const to = entry.info.state;
    if (from === to) return;
    if (from !== 'unknown') this.tally[from]--;
    if (to !== 'unknown') this.tally[to]++;
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
    this.move(entry, { state: 'active', attempts: entry.info.attempts + 1 });
    try {
      const result = await this.options.handler(entry.job, {
        progress: async (p) => {
          this.move(entry, { progress: p });
        },
      });
      this.move(entry, { state: 'completed', result, finishedAt: Date.now() });
      this.completedOrder.push(entry.info.id);
      await this.journal([{ op: 'done', id: entry.info.id }]);
      this.forgetOldCompleted();
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      if (entry.info.attempts < this.retry.attempts && !this.closed) {
        const delay = this.retry.backoffMs * 2 ** (entry.info.attempts - 1);
        this.move(entry, { state: 'delayed', error: message });
        setTimeout(() => {
          this.move(entry, { state: 'waiting' });
          this.pending.push(entry.info.id);
          this.pump();
        }, delay).unref();
      } else {
        this.move(entry, { state: 'failed', error: message, finishedAt: Date.now() });
        this.options.logger.warn({ jobId: entry.info.id, request_id: entry.job.requestId, attempts: entry.info.attempts, err: error }, 'job failed');
        await this.journal([{ op: 'failed', id: entry.info.id, error: message }]);
      }
    }
  }

  private forgetOldCompleted(): void {
    const keep = this.options.keepCompleted ?? 50_000;
    while (this.tally.completed > keep && this.completedOrder.length > 0) {
      const id = this.completedOrder.shift()!;
      if (this.entries.get(id)?.info.state === 'completed') {
        this.entries.delete(id);
        this.tally.completed--;
      }
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
    const unfinished = this.unfinished();
    if (this.finishedLines > 0 && (unfinished === 0 || (this.finishedLines >= threshold && this.finishedLines >= unfinished))) {
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

  /**
   * The journal as it would be replayed: an add line per open or failed job (and its failure).
   * Written a slice of jobs at a time with a turn of the event loop between slices: with tens of
   * thousands of coupons queued, serialising them at once held the API's thread for ~0.5 s.
   * Appends wait for it (it runs in the journal's write sequence); a job added meanwhile is
   * appended after it, and one finished meanwhile gets its `done` line after it too.
   */
  private async rewriteJournal(): Promise<void> {
    const kept = [...this.entries.values()].filter(({ info }) => info.state !== 'completed' && info.state !== 'unknown');
    const tmp = `${this.options.journalPath}.tmp`;
    const file = await open(tmp, 'w');
    try {
      for (let start = 0; start < kept.length; start += REWRITE_SLICE) {
        if (start > 0) await nextTurn();
        let text = '';
        for (const { job, info } of kept.slice(start, start + REWRITE_SLICE)) {
          text += `${JSON.stringify({ op: 'add', id: info.id, job, at: info.createdAt } satisfies JournalEntry)}\n`;
          if (info.state === 'failed') text += `${JSON.stringify({ op: 'failed', id: info.id, error: info.error ?? '' } satisfies JournalEntry)}\n`;
        }
        await file.write(text);
      }
    } finally {
      await file.close();
    }
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
        this.add(id, job, { id, type: job.type, state: 'failed', attempts: this.retry.attempts, error, createdAt: at });
      } else {
        this.add(id, job, { id, type: job.type, state: 'waiting', attempts: 0, createdAt: at });
        this.pending.push(id);
      }
    }
    await this.rewriteJournal();
    if (this.pending.length) this.options.logger.info({ jobs: this.pending.length }, 'resuming unfinished jobs from the journal');
    this.pump();
  }
}
