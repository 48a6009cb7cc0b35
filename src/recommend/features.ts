import { gaussian, seededRandom } from '../util/random.ts';

/**
 * A fixed, seeded Gaussian random projection (Johnson–Lindenstrauss): keeps the geometry of text
 * embeddings in far fewer dimensions, so the towers train several times faster on two cores.
 * The projection matrix depends only on (inDims, outDims, seed), so serving reproduces it exactly.
 */
export function randomProjection(vectors: readonly Float32Array[], outDims: number, seed = 7): Float32Array[] {
  if (vectors.length === 0) return [];
  const inDims = vectors[0]!.length;
  const m = projectionMatrix(inDims, outDims, seed);
  return vectors.map((v) => {
    const out = new Float32Array(outDims);
    for (let i = 0; i < inDims; i++) {
      const x = v[i]!;
      if (x === 0) continue;
      const row = i * outDims;
      for (let j = 0; j < outDims; j++) out[j] = out[j]! + x * m[row + j]!;
    }
    return out;
  });
}

const matrices = new Map<string, Float32Array>();

function projectionMatrix(inDims: number, outDims: number, seed: number): Float32Array {
  const key = `${inDims}x${outDims}@${seed}`;
  let m = matrices.get(key);
  if (!m) {
    const rand = seededRandom(seed);
    m = Float32Array.from({ length: inDims * outDims }, () => gaussian(rand) / Math.sqrt(outDims));
    matrices.set(key, m);
  }
  return m;
}

/** Zero mean, unit variance (a constant input comes back as zeros), so a feature sits on the scale of the others. */
export function standardised(xs: ArrayLike<number>): Float32Array {
  const { mean, sd } = meanAndDeviation(xs);
  return Float32Array.from(xs, (x) => (x - mean) / (sd || 1));
}

/** Mean and (population) standard deviation; 0 and 0 for no values. */
export function meanAndDeviation(xs: ArrayLike<number>): { mean: number; sd: number } {
  const n = xs.length || 1;
  let m = 0;
  for (let i = 0; i < xs.length; i++) m += xs[i]!;
  m /= n;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i]! - m) ** 2;
  return { mean: m, sd: Math.sqrt(v / n) };
}

/** Upper edges of the age bands, in days: half a year, 1, 2, 3, 5, 10 and 20 years. */
const AGE_BAND_DAYS = [182, 365, 730, 1095, 1826, 3652, 7305];

/**
 * An item's age at a reference time (a film's release, a coupon's creation): a one-hot band
 * (the last one past 20 years), an "unknown" flag, and log(1 + years) / 3. Shoppers and viewers
 * lean to what is new, so an item with no interactions yet is told apart by its age as well as its content.
 */
export function ageFeatures(ageDays: number | undefined): Float32Array {
  const out = new Float32Array(AGE_BAND_DAYS.length + 3);
  if (ageDays === undefined || !Number.isFinite(ageDays)) {
    out[AGE_BAND_DAYS.length + 1] = 1;
    return out;
  }
  const days = Math.max(0, ageDays);
  out[AGE_BAND_DAYS.filter((edge) => days >= edge).length] = 1;
  out[AGE_BAND_DAYS.length + 2] = Math.log1p(days / 365) / 3;
  return out;
}
