import { matchesFilter } from '../../domain/filter.ts';
import type { Hit, SearchOptions } from '../vector-store.ts';
import { compileFilter } from './filter-sql.ts';
import { guard } from './guard.ts';

/**
 * Runs a filtered search. When the compiled filter is only a prefilter (geo radius), candidates
 * are re-checked exactly and the search widens until k survive or the table is exhausted.
 */
export async function filteredSearch(options: SearchOptions, search: (where: string | undefined, limit: number) => Promise<Hit[]>): Promise<Hit[]> {
  const { sql, exact } = compileFilter(options.filter);
  if (exact) return guard(() => search(sql, options.k));
  let limit = Math.max(options.k * 2, options.k + 50);
  for (;;) {
    const raw = await guard(() => search(sql, limit));
    const kept = raw.filter((h) => matchesFilter(h.coupon, options.filter!));
    if (kept.length >= options.k || raw.length < limit) return kept.slice(0, options.k);
    limit *= 4;
  }
}
