export { cachedEmbeddings } from '../src/eval/embedding-cache.ts';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(samples: readonly number[]): { p50: number; p95: number; p99: number; mean: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length, n: s.length };
}

export function fmt(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

/** The words benchmark queries are made of: a modifier and a thing people look for coupons for. */
export const QUERY_WORDS = ['cheap', 'half price', 'family', 'weekend', 'deal', 'discount', 'near me', 'tonight', 'for two', 'best', 'quick', 'luxury'];
export const QUERY_THINGS = [
  'pizza',
  'sushi dinner',
  'oil change',
  'car wash',
  'haircut',
  'massage',
  'yoga classes',
  'hotel stay',
  'headphones',
  'running shoes',
  'dental cleaning',
  'dog grooming',
  'movie tickets',
  'bowling',
  'piano lessons',
  'house cleaning',
  'brake repair',
  'facial',
  'burgers',
  'coffee',
];
