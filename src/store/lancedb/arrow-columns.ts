import type { Bool, Data, DataType, Field, FixedSizeList, Float64, List, Schema, Table, Utf8 } from 'apache-arrow';
import { arrow } from './arrow.ts';

const { makeData } = arrow;

/**
 * Arrow columns built straight from JavaScript values, for the rows the indexer commits. LanceDB's
 * own conversion (`makeArrowTable` on an array of objects) goes value by value through Arrow's
 * generic builders: ~20,000 coupon rows a second on this machine, a synchronous block of ~100 ms
 * on the API's one thread for a commit of 2,000 rows, during which no search is answered. These
 * write each column's buffers directly. Every column is non-null, as the coupon schema declares.
 */

/** UTF-8 bytes and offsets of `strings`, encoded into one buffer. */
function utf8Buffers(strings: readonly string[]): { offsets: Int32Array; bytes: Uint8Array } {
  let chars = 0;
  for (const s of strings) chars += s.length;
  // A UTF-16 code unit takes at most 3 bytes in UTF-8 (a surrogate pair: 4 bytes for 2 units).
  const buffer = Buffer.allocUnsafe(3 * chars);
  const offsets = new Int32Array(strings.length + 1);
  let end = 0;
  for (let i = 0; i < strings.length; i++) {
    end += buffer.write(strings[i]!, end);
    offsets[i + 1] = end;
  }
  return { offsets, bytes: buffer.subarray(0, end) };
}

export function utf8Column(type: Utf8, strings: readonly string[]): Data<Utf8> {
  const { offsets, bytes } = utf8Buffers(strings);
  return makeData({ type, length: strings.length, nullCount: 0, valueOffsets: offsets, data: bytes });
}

/** A list of strings per row (`List<Utf8>`). */
export function utf8ListColumn(type: List<Utf8>, lists: readonly (readonly string[])[]): Data<List<Utf8>> {
  const offsets = new Int32Array(lists.length + 1);
  const items: string[] = [];
  for (let i = 0; i < lists.length; i++) {
    for (const s of lists[i]!) items.push(s);
    offsets[i + 1] = items.length;
  }
  const child = utf8Column(type.children[0]!.type, items);
  return makeData({ type, length: lists.length, nullCount: 0, valueOffsets: offsets, child });
}

export function boolColumn(type: Bool, values: readonly boolean[]): Data<Bool> {
  const bits = new Uint8Array((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
  return makeData({ type, length: values.length, nullCount: 0, data: bits });
}

export function float64Column(type: Float64, values: Float64Array): Data<Float64> {
  return makeData({ type, length: values.length, nullCount: 0, data: values });
}

/** Fixed-size vectors (`FixedSizeList<Float32>`), one per row, each `type.listSize` long. */
export function vectorColumn(type: FixedSizeList, vectors: readonly Float32Array[]): Data<FixedSizeList> {
  const size = type.listSize;
  const flat = new Float32Array(vectors.length * size);
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i]!;
    if (v.length !== size) throw new RangeError(`a vector of ${v.length} dimensions in a column of ${size}`);
    flat.set(v, i * size);
  }
  const child = makeData({ type: type.children[0]!.type, length: flat.length, nullCount: 0, data: flat });
  return makeData({ type, length: vectors.length, nullCount: 0, child });
}

/** One record batch of `schema` from its columns, in the schema's field order. */
export function tableOf(schema: Schema, columns: ReadonlyMap<string, Data>): Table {
  const length = columns.values().next().value?.length ?? 0;
  const children = schema.fields.map((f: Field<DataType>) => {
    const column = columns.get(f.name);
    if (!column) throw new Error(`no column for ${f.name}`);
    if (column.length !== length) throw new Error(`column ${f.name} has ${column.length} rows, not ${length}`);
    return column;
  });
  return new arrow.Table(schema, new arrow.RecordBatch(schema, makeData({ type: new arrow.Struct(schema.fields), length, nullCount: 0, children })));
}
