import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EmbedderPool } from '../embed/embedder-pool.ts';
import { ProgressBar } from '../util/progress.ts';

/** Where benchmarks and evaluations keep computed embeddings (git-ignored). */
export const CACHE_DIR = path.resolve(import.meta.dirname, '../../.cache');

/**
 * USE-lite embeddings of `texts`, computed once (on every core) and cached under .cache/,
 * keyed by a hash of the texts and the model id.
 */
export async function cachedEmbeddings(texts: readonly string[], modelId = 'use-lite@1', dims = 512): Promise<Float32Array[]> {
  const hash = createHash('sha256').update(modelId).update(texts.join('\n')).digest('hex').slice(0, 16);
  const file = path.join(CACHE_DIR, `embeddings-${modelId}-${texts.length}-${hash}.f32`);
  try {
    const buf = await readFile(file);
    const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    if (all.length === texts.length * dims) return texts.map((_, i) => all.subarray(i * dims, (i + 1) * dims));
  } catch {
    // not cached yet
  }
  const pool = new EmbedderPool({ kind: 'use-lite' }, 2, modelId, dims);
  await pool.ready();
  const bar = new ProgressBar(`embedding ${texts.length} texts (cached afterwards)`, texts.length);
  const out: Float32Array[] = new Array(texts.length);
  const batch = 64;
  let next = 0;
  const lane = async () => {
    while (next < texts.length) {
      const start = next;
      next += batch;
      const vectors = await pool.embed(texts.slice(start, start + batch));
      vectors.forEach((v, i) => (out[start + i] = v));
      bar.tick(vectors.length);
    }
  };
  await Promise.all([lane(), lane()]);
  await pool.close();
  await mkdir(CACHE_DIR, { recursive: true });
  const flat = new Float32Array(texts.length * dims);
  out.forEach((v, i) => flat.set(v, i * dims));
  await writeFile(file, Buffer.from(flat.buffer));
  return out;
}
