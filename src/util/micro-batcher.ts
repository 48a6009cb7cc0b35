/**
 * Collects items submitted by concurrent callers and runs them in batches: a batch is flushed when
 * it reaches `maxBatch` items or `maxWaitMs` after its first item, whichever comes first. Each
 * caller gets back the results for its own items. Used to embed and to write across queue jobs.
 */
export interface MicroBatcherOptions<I, O> {
  run: (items: I[]) => Promise<O[]>;
  /** @defaultValue 64 */
  maxBatch?: number;
  /** @defaultValue 10 */
  maxWaitMs?: number;
}

interface Pending<I, O> {
  items: I[];
  resolve: (out: O[]) => void;
  reject: (error: unknown) => void;
}

export class MicroBatcher<I, O> {
  private queue: Array<Pending<I, O>> = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly maxBatch: number;
  private readonly maxWaitMs: number;

  constructor(private readonly options: MicroBatcherOptions<I, O>) {
    this.maxBatch = options.maxBatch ?? 64;
    this.maxWaitMs = options.maxWaitMs ?? 10;
  }

  submit(items: I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queued += items.length;
      if (this.queued >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  /** Runs what is queued now (batches run one after another, never concurrently). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    this.queued = 0;
    if (batch.length === 0) return this.running;
    this.running = this.running.then(() => this.runBatch(batch));
    return this.running;
  }

  private async runBatch(batch: Array<Pending<I, O>>): Promise<void> {
    // A caller's items stay together; the batch may exceed maxBatch by one caller's items.
    try {
      const out = await this.options.run(batch.flatMap((p) => p.items));
      let offset = 0;
      for (const p of batch) {
        p.resolve(out.slice(offset, offset + p.items.length));
        offset += p.items.length;
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
