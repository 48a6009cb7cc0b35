import { Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { UnavailableError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { jobIdOf, type IndexJob } from './jobs.ts';
import { DEFAULT_RETRY, type JobCounts, type JobHandler, type JobInfo, type JobQueue, type JobState, type RetryPolicy } from './queue.ts';

export const QUEUE_NAME = 'coupon-index';

export interface BullQueueOptions {
  redisUrl: string;
  /** Redis key prefix; tests pass a unique one. */
  prefix: string;
  retry?: RetryPolicy;
  /** How long a queue operation may wait for Redis before answering 503. @defaultValue 3000 */
  timeoutMs?: number;
}

/** Fails fast when Redis is down instead of queueing commands in memory (BullMQ's advice for producers). */
function producerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false, connectTimeout: 2000 });
}

/** The indexing queue on Redis through BullMQ: jobs survive restarts and worker crashes. */
export class BullQueue implements JobQueue {
  readonly kind = 'bullmq';
  private readonly connection: Redis;
  private readonly queue: Queue;
  private readonly timeoutMs: number;

  constructor(options: BullQueueOptions) {
    this.timeoutMs = options.timeoutMs ?? 3000;
    const retry = options.retry ?? DEFAULT_RETRY;
    this.connection = producerConnection(options.redisUrl);
    this.connection.on('error', () => undefined); // surfaced through ping() and failed calls
    this.queue = new Queue(QUEUE_NAME, {
      connection: this.connection,
      prefix: options.prefix,
      defaultJobOptions: {
        attempts: retry.attempts,
        backoff: { type: 'exponential', delay: retry.backoffMs },
        removeOnComplete: { age: 24 * 3600, count: 50_000 },
        removeOnFail: false,
      },
    });
    this.queue.on('error', () => undefined);
  }

  async enqueue(jobs: readonly IndexJob[]): Promise<string[]> {
    const entries = jobs.map((data) => ({ name: data.type, data, opts: { jobId: jobIdOf(data) } }));
    // addBulk is one MULTI per call; chunks keep a 10k-coupon batch from building one giant command.
    for (let i = 0; i < entries.length; i += 1000) await this.guard(() => this.queue.addBulk(entries.slice(i, i + 1000)));
    return entries.map((e) => e.opts.jobId);
  }

  async get(id: string): Promise<JobInfo | undefined> {
    const job = await this.guard(() => Job.fromId(this.queue, id));
    return job ? this.info(job) : undefined;
  }

  async failed(limit = 100): Promise<JobInfo[]> {
    const jobs = await this.guard(() => this.queue.getFailed(0, limit - 1));
    return Promise.all(jobs.filter(Boolean).map((j) => this.info(j)));
  }

  async retryFailed(): Promise<number> {
    const count = (await this.counts()).failed;
    await this.guard(() => this.queue.retryJobs({ state: 'failed', count: 1000 }));
    return count;
  }

  async counts(): Promise<JobCounts> {
    const c = await this.guard(() => this.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'));
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
    };
  }

  private depthCache: { at: number; value: Promise<number> } | undefined;

  /** One Redis round trip per quarter second at most, however many writes ask. */
  depth(): Promise<number> {
    const now = Date.now();
    if (!this.depthCache || now - this.depthCache.at > 250) {
      const value = this.counts().then((c) => c.waiting + c.active + c.delayed);
      value.catch(() => (this.depthCache = undefined));
      this.depthCache = { at: now, value };
    }
    return this.depthCache.value;
  }

  async drained(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = await this.counts();
      if (c.waiting + c.active + c.delayed === 0) return;
      if (Date.now() > deadline) throw new Error(`queue not drained after ${timeoutMs} ms: ${JSON.stringify(c)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async ping(): Promise<void> {
    await this.guard(() => this.connection.ping());
  }

  async close(): Promise<void> {
    // Closing waits for Redis; with Redis gone there is nothing to flush, so do not wait forever.
    await Promise.race([this.queue.close(), new Promise((r) => setTimeout(r, this.timeoutMs).unref())]);
    this.connection.disconnect();
  }

  /** Removes every key of this queue (tests with a unique prefix clean up with it). */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
  }

  private async info(job: Job): Promise<JobInfo> {
    const state = (await job.getState()) as string;
    return {
      id: job.id!,
      type: (job.data as IndexJob).type,
      state: toState(state),
      attempts: job.attemptsMade,
      progress: typeof job.progress === 'number' ? job.progress : undefined,
      result: job.returnvalue ?? undefined,
      error: job.failedReason || undefined,
      createdAt: job.timestamp,
      finishedAt: job.finishedOn,
    };
  }

  /** Redis errors and waits longer than `timeoutMs` become UnavailableError (503, Retry-After). */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (cause) {
      throw new UnavailableError('queue', (cause as Error).message, { cause });
    } finally {
      clearTimeout(timer);
    }
  }
}

function toState(state: string): JobState {
  if (state === 'wait' || state === 'waiting' || state === 'paused' || state === 'prioritized' || state === 'waiting-children') return 'waiting';
  if (state === 'active' || state === 'delayed' || state === 'completed' || state === 'failed') return state;
  return 'unknown';
}

export interface BullWorkerOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  handler: JobHandler;
  logger: Logger;
  /** How long a job's lock lasts; a crashed worker's jobs return to the queue after it. @defaultValue 30000 */
  lockDurationMs?: number;
}

/** A BullMQ worker running the indexer's handler. `close()` finishes active jobs first. */
export function startBullWorker(options: BullWorkerOptions): { close(): Promise<void>; worker: Worker } {
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', (error) => options.logger.warn({ err: error }, 'worker Redis connection error'));
  const lockDuration = options.lockDurationMs ?? 30_000;
  const worker = new Worker(QUEUE_NAME, async (job: Job) => options.handler(job.data as IndexJob, { progress: (p) => job.updateProgress(p) }), {
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration,
    stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
    // A job whose worker died is retried, not failed: the handler is idempotent.
    maxStalledCount: 10,
  });
  worker.on('failed', (job, error) =>
    options.logger.warn({ jobId: job?.id, request_id: job?.data.requestId, attempts: job?.attemptsMade, err: error }, 'job failed'),
  );
  worker.on('error', (error) => options.logger.warn({ err: error }, 'worker error'));
  return {
    worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
