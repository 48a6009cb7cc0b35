/**
 * Rows of vectors in WebAssembly memory, scored against a query with 128-bit SIMD: the inner
 * loop of every IVF search. V8 has no SIMD for JavaScript, and WebAssembly's f32x4 runs four
 * products per instruction: with it, `bench:search`'s `retrieve` stage at 100,000 coupons went
 * from 3.85 to 2.0–2.4 ms p50 (the scalar loop, `dotAt`, had scored every probed row).
 *
 * The kernel, in the WebAssembly text format (the bytes below are this, hand-assembled):
 *
 *   (func (export "dots") (param $q i32) (param $rows i32) (param $n i32) (param $bytes i32) (param $out i32)
 *     ;; out[i] = q · row i, for n rows of $bytes each from $rows ($bytes a multiple of 16)
 *     (local $i i32) (local $d i32) (local $acc v128) (local $acc2 v128)
 *     (block $done (loop $each_row
 *       (br_if $done (i32.ge_u $i $n))
 *       (local.set $acc (v128.const 0)) (local.set $acc2 (v128.const 0)) (local.set $d 0)
 *       (block $pairs_done (loop $pairs              ;; two f32x4 at a time: two chains of additions
 *         (br_if $pairs_done (i32.ge_u (i32.add $d 16) $bytes))
 *         $acc  += load($rows + $d) * load($q + $d)
 *         $acc2 += load($rows + $d + 16) * load($q + $d + 16)
 *         $d += 32 (br $pairs)))
 *       (if (i32.lt_u $d $bytes) $acc += load($rows + $d) * load($q + $d))
 *       $acc += $acc2
 *       (f32.store ($out + 4 * $i) (lane0 + lane1) + (lane2 + lane3))
 *       $rows += $bytes  $i += 1 (br $each_row))))
 */

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  i32Const: 0x41,
  i32Add: 0x6a,
  i32Shl: 0x74,
  i32GeU: 0x4f,
  i32LtU: 0x49,
  f32Add: 0x92,
  f32Store: 0x38,
  void: 0x40,
} as const;
/** SIMD instructions: the 0xfd prefix and their LEB128 sub-opcode. */
const simd = {
  load: [0xfd, 0x00],
  const: [0xfd, 0x0c],
  extractLane: [0xfd, 0x1f],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
} as const;

// Parameters and locals by index.
const Q = 0;
const ROWS = 1;
const N = 2;
const BYTES = 3;
const OUT = 4;
const I = 5;
const D = 6;
const ACC = 7;
const ACC2 = 8;

const get = (local: number) => [op.localGet, local];
const set = (local: number) => [op.localSet, local];
/** A v128 load at `base + d + offset` (alignment hint 2⁰: rows need not be 16-byte aligned for correctness). */
const loadAt = (base: number, offset: number) => [...get(base), ...get(D), op.i32Add, ...simd.load, 0x00, offset];
/** acc += row[d + offset] * q[d + offset] */
const accumulate = (acc: number, offset: number) => [
  ...get(acc),
  ...loadAt(ROWS, offset),
  ...loadAt(Q, offset),
  ...simd.f32x4Mul,
  ...simd.f32x4Add,
  ...set(acc),
];
const lane = (n: number) => [...get(ACC), ...simd.extractLane, n];

const body = [
  [2, 2, I32, 2, V128], // locals: $i, $d (i32); $acc, $acc2 (v128)
  [op.block, op.void, op.loop, op.void], // $done, $each_row
  [...get(I), ...get(N), op.i32GeU, op.brIf, 1],
  [...simd.const, ...new Array<number>(16).fill(0), ...set(ACC)],
  [...simd.const, ...new Array<number>(16).fill(0), ...set(ACC2)],
  [op.i32Const, 0, ...set(D)],
  [op.block, op.void, op.loop, op.void], // $pairs_done, $pairs
  [...get(D), op.i32Const, 16, op.i32Add, ...get(BYTES), op.i32GeU, op.brIf, 1],
  accumulate(ACC, 0),
  accumulate(ACC2, 16),
  [...get(D), op.i32Const, 32, op.i32Add, ...set(D), op.br, 0, op.end, op.end],
  [...get(D), ...get(BYTES), op.i32LtU, op.if, op.void, ...accumulate(ACC, 0), op.end],
  [...get(ACC), ...get(ACC2), ...simd.f32x4Add, ...set(ACC)],
  [...get(OUT), ...get(I), op.i32Const, 2, op.i32Shl, op.i32Add], // the address out + 4i
  [...lane(0), ...lane(1), op.f32Add, ...lane(2), ...lane(3), op.f32Add, op.f32Add, op.f32Store, 0x02, 0x00],
  [...get(ROWS), ...get(BYTES), op.i32Add, ...set(ROWS)],
  [...get(I), op.i32Const, 1, op.i32Add, ...set(I), op.br, 0],
  [op.end, op.end, op.end], // $each_row, $done, the function
].flat();

/** A section: its id, then its contents' length (LEB128) and the contents. */
function section(id: number, contents: number[]): number[] {
  return [id, ...leb128(contents.length), ...contents];
}

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}

const name = (s: string) => [s.length, ...Buffer.from(s, 'ascii')];

const MODULE = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
  ...section(1, [1, 0x60, 5, I32, I32, I32, I32, I32, 0]), // one type: (i32 ×5) → ()
  ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]), // imports env.memory (min 1 page)
  ...section(3, [1, 0]), // one function, of type 0
  ...section(7, [1, ...name('dots'), 0x00, 0]), // exported as "dots"
  ...section(10, [1, ...leb128(body.length), ...body]),
]);

const PAGE_BYTES = 65_536;
/** Rows a fresh block holds; blocks double, so a size class is a power of two from here. */
const MIN_BLOCK_ROWS = 16;

/**
 * Blocks of rows in one WebAssembly memory, each row `stride` floats (the dimensions rounded up to
 * a multiple of 4 and zero-padded, so the kernel needs no scalar tail). Freed blocks are reused by
 * size class; the memory grows as needed (a view taken before a growth is stale, so callers read
 * `floats` afresh after any allocation). One arena belongs to one IVF partition: a retraining
 * builds its lists in a new arena and the old one goes with the old partition.
 */
export class VectorArena {
  readonly stride: number;
  private readonly memory = new WebAssembly.Memory({ initial: 1 });
  private readonly dotsKernel: (q: number, rows: number, n: number, bytes: number, out: number) => void;
  private view: Float32Array;
  /** The next free float offset past every block handed out. */
  private end: number;
  private readonly freeBlocks = new Map<number, number[]>();
  /** Where `scores` writes: a block grown to the longest list scored (`floats` of room). */
  private out = { offset: 0, rows: 0, floats: 0 };

  constructor(readonly dims: number) {
    this.stride = Math.ceil(dims / 4) * 4;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE), { env: { memory: this.memory } });
    this.dotsKernel = instance.exports.dots as VectorArena['dotsKernel'];
    this.view = new Float32Array(this.memory.buffer);
    // The query's row sits at offset 0, before every block.
    this.end = this.stride;
  }

  /** The memory as floats; re-read after `alloc`, which may grow it. */
  get floats(): Float32Array {
    if (this.view.buffer !== this.memory.buffer) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }

  /** Bytes the arena holds (its memory, blocks in use or free). */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** A block of `rows` rows (a power of two ≥ 16); returns its float offset. */
  alloc(rows: number): number {
    const reused = this.freeBlocks.get(rows)?.pop();
    if (reused !== undefined) return reused;
    const offset = this.end;
    this.end += rows * this.stride;
    const needed = this.end * 4 - this.memory.buffer.byteLength;
    // Grow by at least a quarter, so a stream of small blocks does not grow the memory page by page.
    if (needed > 0) this.memory.grow(Math.ceil(Math.max(needed, this.memory.buffer.byteLength / 4) / PAGE_BYTES));
    return offset;
  }

  free(offset: number, rows: number): void {
    let list = this.freeBlocks.get(rows);
    if (!list) this.freeBlocks.set(rows, (list = []));
    list.push(offset);
  }

  /** Writes `vector` as the row at float offset `at` (zero-padded to the stride). */
  write(at: number, vector: Float32Array, from = 0): void {
    const floats = this.floats;
    floats.set(vector.subarray(from, from + this.dims), at);
    floats.fill(0, at + this.dims, at + this.stride);
  }

  /** The query every following `scores` call scores against: the row of `query` from `from`. */
  setQuery(query: Float32Array, from = 0): void {
    this.write(0, query, from);
  }

  /**
   * The query's dot product with each of `n` rows from float offset `at`: a view valid until the
   * next call that allocates or scores.
   */
  scores(at: number, n: number): Float32Array {
    if (n > this.out.floats) {
      if (this.out.rows) this.free(this.out.offset, this.out.rows);
      const rows = blockRows(Math.ceil(n / this.stride));
      this.out = { offset: this.alloc(rows), rows, floats: rows * this.stride };
    }
    this.dotsKernel(0, at * 4, n, this.stride * 4, this.out.offset * 4);
    return this.floats.subarray(this.out.offset, this.out.offset + n);
  }
}

/** The size class holding `rows`: a power of two, at least `MIN_BLOCK_ROWS`. */
export function blockRows(rows: number): number {
  let size = MIN_BLOCK_ROWS;
  while (size < rows) size *= 2;
  return size;
}
