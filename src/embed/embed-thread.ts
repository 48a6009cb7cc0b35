/**
 * Worker-thread side of EmbedderPool. Input (workerData): the embedder config. Messages in:
 * `{ id, texts }`; out: `{ id, vectors }` (buffers transferred) or `{ id, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { createEmbedder } from './create-embedder.ts';

const embedder = createEmbedder(workerData as Config['embedder']);
const ready = embedder.ready();

parentPort!.on('message', async ({ id, texts }: { id: number; texts: string[] }) => {
  try {
    await ready;
    const vectors = await embedder.embed(texts);
    parentPort!.postMessage(
      { id, vectors },
      vectors.map((v) => v.buffer as ArrayBuffer),
    );
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message });
  }
});
