import { Worker } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { UnavailableError } from '../errors.ts';
import type { Embedder } from './embedder.ts';

interface Slot {
  worker: Worker;
  busy: number;
}

/**
 * Runs an embedder in `threads` worker threads so document batches use every core (TF.js wasm is
 * single-threaded under Node). Same port as any embedder; queries stay on the main thread's own
 * embedder for latency, documents go here.
 */
export class EmbedderPool implements Embedder {
  private slots: Slot[] = [];
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly config: Config['embedder'],
    readonly threads: number,
    readonly id: string,
    readonly dims: number,
  ) {}

  async ready(): Promise<void> {
    if (this.slots.length) return;
    for (let i = 0; i < this.threads; i++) {
      const worker = this.spawnThread();
      worker.unref();
      worker.on('message', (m: { id: number; vectors?: Float32Array[]; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        if (m.error !== undefined) p.reject(new UnavailableError('embedder', m.error));
        else p.resolve(m.vectors!);
      });
      worker.on('error', (error) => {
        for (const [id, p] of this.pending) {
          p.reject(new UnavailableError('embedder', `embedding thread crashed: ${error.message}`, { cause: error }));
          this.pending.delete(id);
        }
      });
      this.slots.push({ worker, busy: 0 });
    }
    // Each thread loads the model on its first batch; warm them now.
    await Promise.all(this.slots.map((s) => this.run(s, ['warm up'])));
  }

  private spawnThread(): Worker {
    return new Worker(new URL('./embed-thread-bootstrap.mjs', import.meta.url), { workerData: this.config });
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    if (!this.slots.length) await this.ready();
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    return this.run(slot, [...texts]);
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots = [];
  }

  private run(slot: Slot, texts: string[]): Promise<Float32Array[]> {
    const id = this.nextId++;
    slot.busy++;
    slot.worker.ref();
    return new Promise<Float32Array[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, texts });
    }).finally(() => {
      if (--slot.busy === 0) slot.worker.unref();
    });
  }
}
