import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

let ready: Promise<typeof tf> | undefined;

/**
 * Initialises TensorFlow.js once per process on the wasm backend (tfjs-node cannot install here;
 * wasm trains ~3.5× faster than the pure-JS backend). Every model in the engine goes through this.
 */
export function tfRuntime(): Promise<typeof tf> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    setWasmPaths(`${wasmDir}${path.sep}`);
    if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js wasm backend failed to initialise');
    await tf.ready();
    registerMissingWasmKernels();
    untransposedMatMuls();
    return tf;
  })();
  return ready;
}

/**
 * The wasm backend lacks UnsortedSegmentSum, the kernel behind the gradient of `gather` (and so of
 * every Embedding layer). A straightforward implementation on the tensor data keeps training on wasm.
 */
function registerMissingWasmKernels(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const { numSegments } = attrs as unknown as { numSegments: number };
      const b = backend as unknown as {
        readSync(id: object): ArrayLike<number>;
        makeOutput(shape: number[], dtype: string, memoryOffset?: number, values?: unknown): tf.TensorInfo;
      };
      const values = b.readSync(x.dataId);
      const ids = b.readSync(segmentIds.dataId);
      const inner = x.shape.slice(1).reduce((p, d) => p * d, 1);
      const out = new Float32Array(numSegments * inner);
      for (let i = 0; i < ids.length; i++) {
        const seg = ids[i]!;
        if (seg < 0 || seg >= numSegments) continue;
        const o = seg * inner,
          v = i * inner;
        for (let k = 0; k < inner; k++) out[o + k] = out[o + k]! + values[v + k]!;
      }
      return b.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype, undefined, out);
    },
  });
}

type WasmBackend = { disposeData(id: object): void };

/**
 * The wasm backend's matrix products with a transposed operand run about 10× slower than plain
 * ones (measured: [3200×64]·[64×64]ᵀ 12 ms, the same after an explicit transpose 1.1 ms), and every
 * gradient of a dense layer and every attention score is one. Transposing first keeps them fast.
 */
function untransposedMatMuls(): void {
  const transpose = tf.getKernel('Transpose', 'wasm')?.kernelFunc;
  if (!transpose) return;
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const original = tf.getKernel(name, 'wasm');
    if (!original || (original.kernelFunc as { untransposed?: boolean }).untransposed) continue;
    const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
      const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
      if (!transposeA && !transposeB) return original.kernelFunc({ inputs, backend, attrs });
      const temporary: tf.TensorInfo[] = [];
      const flip = (x: tf.TensorInfo) => {
        const r = x.shape.length;
        const perm = [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
        const t = transpose({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
        temporary.push(t);
        return t;
      };
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const out = original.kernelFunc({
        inputs: { ...inputs, a: transposeA ? flip(a) : a, b: transposeB ? flip(b) : b },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
      for (const t of temporary) (backend as unknown as WasmBackend).disposeData(t.dataId);
      return out;
    };
    (kernelFunc as { untransposed?: boolean }).untransposed = true;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
  }
}
