import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface NamedWeights {
  name: string;
  shape: number[];
  data: Float32Array;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/**
 * Writes float32 tensors in TF.js's weights format (`model.json` with a weights manifest,
 * `weights.bin` with the tensors back to back) beside other files (`metadata.json`, ...). Every
 * file is written under a temporary name and renamed into place last: a crash leaves the old set.
 */
export async function saveWeights(dir: string, tensors: readonly NamedWeights[], otherFiles: Record<string, string>, generatedBy: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const specs: WeightSpec[] = tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: 'float32' }));
  const manifest = { format: 'weights-only', generatedBy, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] };
  const files: Array<[string, string | Buffer]> = [
    ['weights.bin', Buffer.concat(tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)))],
    ...Object.entries(otherFiles),
    ['model.json', `${JSON.stringify(manifest, null, 2)}\n`],
  ];
  for (const [name, data] of files) await writeFile(path.join(dir, `${name}.tmp`), data);
  for (const [name] of files) await rename(path.join(dir, `${name}.tmp`), path.join(dir, name));
}

/** Reads tensors saved by `saveWeights`, by name, checking that the sizes add up. */
export async function loadWeights(dir: string): Promise<{ tensors: Map<string, NamedWeights>; bytes: Buffer }> {
  const manifest = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest: Array<{ weights: WeightSpec[] }> };
  const bytes = await readFile(path.join(dir, 'weights.bin'));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const tensors = new Map<string, NamedWeights>();
  let offset = 0;
  for (const spec of manifest.weightsManifest[0]?.weights ?? []) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    tensors.set(spec.name, { name: spec.name, shape: spec.shape, data: all.subarray(offset, offset + size) });
    offset += size;
  }
  if (offset !== all.length) throw new Error(`${dir}: weights.bin holds ${all.length} floats, model.json describes ${offset}`);
  return { tensors, bytes };
}
