import { UnavailableError } from '../errors.ts';
import { l2normalize, type Embedder } from './embedder.ts';

export interface TransformersEmbedderOptions {
  /** A Hugging Face model id (`Xenova/all-MiniLM-L6-v2`) or a folder name under `localModelPath`. */
  model: string;
  /** Folder holding models in the transformers.js local layout; when set, the Hub is never contacted. */
  localModelPath?: string | undefined;
  /** `fp32` for unquantised weights (`onnx/model.onnx`), `q8` for `onnx/model_quantized.onnx`. @defaultValue 'fp32' */
  dtype?: 'fp32' | 'q8';
  /** @defaultValue 'mean' */
  pooling?: 'mean' | 'cls';
}

type FeatureExtractor = (
  texts: string[],
  options: { pooling: 'mean' | 'cls'; normalize: boolean },
) => Promise<{
  data: Float32Array;
  dims: number[];
  dispose?: () => void;
}>;

/**
 * Any sentence-embedding model that transformers.js (`@huggingface/transformers`, ONNX Runtime)
 * can run. Offline use: set `localModelPath`; remote models are then disabled so a missing file
 * fails fast instead of hanging on the network.
 */
export class TransformersEmbedder implements Embedder {
  readonly id: string;
  private dimsValue = 0;
  private loading: Promise<FeatureExtractor> | undefined;

  constructor(private readonly options: TransformersEmbedderOptions) {
    this.id = `transformers:${options.model}`;
  }

  /** Known after `ready()`, from the model's output. */
  get dims(): number {
    if (this.dimsValue === 0) throw new Error('TransformersEmbedder.dims is known only after ready()');
    return this.dimsValue;
  }

  async ready(): Promise<void> {
    await this.load();
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const extract = await this.load();
    // Normalised here rather than by the pipeline, which turns an all-unknown text into NaN.
    const output = await extract([...texts], { pooling: this.options.pooling ?? 'mean', normalize: false });
    const dims = output.dims.at(-1)!;
    const vectors = texts.map((_, i) => l2normalize(Float32Array.from(output.data.subarray(i * dims, (i + 1) * dims))));
    output.dispose?.();
    return vectors;
  }

  async close(): Promise<void> {
    this.loading = undefined;
  }

  private load(): Promise<FeatureExtractor> {
    this.loading ??= (async () => {
      try {
        const { env, pipeline } = await import('@huggingface/transformers');
        if (this.options.localModelPath) {
          env.allowRemoteModels = false;
          env.allowLocalModels = true;
          env.localModelPath = this.options.localModelPath.endsWith('/') ? this.options.localModelPath : `${this.options.localModelPath}/`;
        }
        const extract = (await pipeline('feature-extraction', this.options.model, {
          dtype: this.options.dtype ?? 'fp32',
        })) as unknown as FeatureExtractor;
        const probe = await extract(['dimension probe'], { pooling: this.options.pooling ?? 'mean', normalize: false });
        this.dimsValue = probe.dims.at(-1)!;
        return extract;
      } catch (cause) {
        this.loading = undefined;
        throw new UnavailableError('embedder', `transformers.js model '${this.options.model}' failed to load: ${(cause as Error).message}`, { cause });
      }
    })();
    return this.loading;
  }
}
