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
