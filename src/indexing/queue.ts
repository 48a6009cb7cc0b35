import type { IndexJob } from './jobs.ts';

/**
 * The job queue port. Adapters: BullMQ on Redis (`bullmq-queue.ts`) and an in-process queue with a
 * journal on disk (`inline-queue.ts`) for the embedded default. Both run the same `JobHandler`.
 */
export type JobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'unknown';

export interface JobInfo {
  id: string;
  type: IndexJob['type'];
  state: JobState;
  attempts: number;
  progress?: number | undefined;
  result?: unknown;
  error?: string | undefined;
  createdAt: number;
  finishedAt?: number | undefined;
}

export type JobCounts = Record<Exclude<JobState, 'unknown'>, number>;

export interface JobContext {
  /** Reports progress in percent (a reindex does). */
  progress(percent: number): Promise<void>;
}

export type JobHandler = (job: IndexJob, context: JobContext) => Promise<unknown>;

export interface RetryPolicy {
  /** @defaultValue 5 */
  attempts: number;
  /** First retry delay; doubles each attempt. @defaultValue 1000 */
  backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, backoffMs: 1000 };

export interface JobQueue {
  readonly kind: 'bullmq' | 'inline';
  /** Adds jobs (an id already queued or completed is not added again); returns their ids in order. */
  enqueue(jobs: readonly IndexJob[]): Promise<string[]>;
  get(id: string): Promise<JobInfo | undefined>;
  /** Failed jobs, newest first; they are kept until retried. */
  failed(limit?: number): Promise<JobInfo[]>;
  /** Moves every failed job back to waiting; returns how many. */
  retryFailed(): Promise<number>;
  counts(): Promise<JobCounts>;
  /** Jobs waiting, delayed or active (may lag by a moment): what backpressure compares with its cap. */
  depth(): Promise<number>;
  /** Resolves when nothing is waiting, delayed or active. */
  drained(timeoutMs?: number): Promise<void>;
  /** Throws when the queue's backend is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
