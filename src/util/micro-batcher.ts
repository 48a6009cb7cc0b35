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
  /** Batches that may run at once (e.g. one per embedding thread). @defaultValue 1 */
  concurrency?: number;
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
  private active = 0;
  private readonly ready: Array<Array<Pending<I, O>>> = [];
  private readonly idle: Array<() => void> = [];
  private readonly maxBatch: number;
  private readonly maxWaitMs: number;
  private readonly concurrency: number;

  constructor(private readonly options: MicroBatcherOptions<I, O>) {
    this.maxBatch = options.maxBatch ?? 64;
    this.maxWaitMs = options.maxWaitMs ?? 10;
    this.concurrency = options.concurrency ?? 1;
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

  /** Starts what is queued now and resolves once every started batch has finished. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length > 0) this.ready.push(this.queue);
    this.queue = [];
    this.queued = 0;
    this.startReady();
    if (this.active === 0 && this.ready.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private startReady(): void {
    while (this.active < this.concurrency && this.ready.length > 0) {
      const batch = this.ready.shift()!;
      this.active++;
      void this.runBatch(batch).finally(() => {
        this.active--;
        this.startReady();
        if (this.active === 0 && this.ready.length === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
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
