import { nextTurn } from './next-turn.ts';

/**
 * Group commit for concurrent callers: items submitted while every slot is busy wait together and
 * go out as one batch (up to `maxBatch` items) as soon as a slot frees, so a steady stream turns
 * into few large calls instead of many small ones. When a slot is idle, a batch starts at
 * `maxBatch` items or `maxWaitMs` after its first item, whichever comes first. Each caller gets
 * back the results for its own items. Used to embed and to write across queue jobs.
 */
export interface MicroBatcherOptions<I, O> {
  run: (items: I[]) => Promise<O[]>;
  /** Items per call at most (a caller's items are never split, so one caller may exceed it). @defaultValue 64 */
  maxBatch?: number;
  /** How long an idle batcher waits for company after the first item. @defaultValue 10 */
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
  private waiting: Array<Pending<I, O>> = [];
  private waitingItems = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Set by `flush()` or the timer: what is waiting may start without more company. */
  private due = false;
  private active = 0;
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
      this.waiting.push({ items, resolve, reject });
      this.waitingItems += items.length;
      this.startBatches();
      if (this.waiting.length > 0 && !this.due) this.timer ??= setTimeout(() => this.makeDue(), this.maxWaitMs);
    });
  }

  /** Starts what is waiting now and resolves once nothing is waiting or running. */
  flush(): Promise<void> {
    this.makeDue();
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private makeDue(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.due = this.waiting.length > 0;
    this.startBatches();
  }

  private startBatches(): void {
    while (this.active < this.concurrency && this.waiting.length > 0 && (this.due || this.waitingItems >= this.maxBatch)) {
      const batch: Array<Pending<I, O>> = [];
      let size = 0;
      while (this.waiting.length > 0 && (batch.length === 0 || size + this.waiting[0]!.items.length <= this.maxBatch)) {
        const next = this.waiting.shift()!;
        batch.push(next);
        size += next.items.length;
      }
      this.waitingItems -= size;
      if (this.waiting.length === 0) {
        this.due = false;
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.active++;
      void this.runBatch(batch).finally(() => {
        this.active--;
        // Whatever arrived while this batch ran has waited long enough: it goes out now.
        if (this.waiting.length > 0) this.due = true;
        this.startBatches();
        if (this.active === 0 && this.waiting.length === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async runBatch(batch: Array<Pending<I, O>>): Promise<void> {
    // A turn of the event loop before each batch. Callers resume from the last batch as promise
    // callbacks, which run back to back with nothing else in between: without this a wave of queue
    // jobs flowed from batch to batch (embedding, behaviour vectors, the store's write) for up to a
    // second of CPU while an HTTP request such as a search waited for its turn.
    await nextTurn();
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
