import type { IndexedCoupon } from './vector-store.ts';

/** Which documents of a write go to the store, and which are stale. */
export interface VersionedWritePlan {
  /** The newest version of each id in the batch that is newer than the stored one. */
  fresh: IndexedCoupon[];
  /** Ids whose document lost: to a newer one in the same batch, or to the store's own version. */
  stale: string[];
}

/** Of several versions of one id in a batch, the highest; the others are stale. */
export function newestById(docs: readonly IndexedCoupon[]): { newest: Map<string, IndexedCoupon>; stale: string[] } {
  const newest = new Map<string, IndexedCoupon>();
  const stale: string[] = [];
  for (const d of docs) {
    const prev = newest.get(d.coupon.id);
    if (!prev || d.coupon.version > prev.coupon.version) {
      if (prev) stale.push(prev.coupon.id);
      newest.set(d.coupon.id, d);
    } else stale.push(d.coupon.id);
  }
  return { newest, stale };
}

/**
 * "Newest version wins", the rule of every store adapter: `newest` against the versions the store
 * holds (`stored`, id → version). Adapters still guard the write itself with the same comparison,
 * so that a concurrent writer with a newer version wins.
 */
export function planVersionedWrite(
  newest: ReadonlyMap<string, IndexedCoupon>,
  stale: readonly string[],
  stored: ReadonlyMap<string, number>,
): VersionedWritePlan {
  const out: VersionedWritePlan = { fresh: [], stale: [...stale] };
  for (const d of newest.values()) {
    const v = stored.get(d.coupon.id);
    if (v !== undefined && v >= d.coupon.version) out.stale.push(d.coupon.id);
    else out.fresh.push(d);
  }
  return out;
}

/** Per document of a write: whether it was the one written (the highest version of its id in the batch, and written). */
export function outcomesOf(docs: readonly IndexedCoupon[], written: readonly string[]): Array<'written' | 'stale'> {
  const wrote = new Set(written);
  const { newest } = newestById(docs);
  return docs.map((d) => (wrote.has(d.coupon.id) && newest.get(d.coupon.id) === d ? 'written' : 'stale'));
}
