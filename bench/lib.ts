import http from 'node:http';

export { cachedEmbeddings } from '../src/eval/embedding-cache.ts';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Milliseconds from sending the request to the last byte of the answer. */
  ms: number;
}

/**
 * A sequential GET client over one kept-alive connection (node:http), for latency figures: what
 * it measures is the server's. The global `fetch` allocates enough per request that its own
 * collections reach the p99 of a server that answers in about a millisecond (README, Performance:
 * `/healthz` p99 4.77 ms with it, 1.82–3.70 with this client, the same day).
 */
export function createHttpClient(base: string): { get(path: string): Promise<HttpAnswer>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    get: (path) =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const req = http.get(`${base}${path}`, { agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started }));
          res.on('error', reject);
        });
        req.on('error', reject);
      }),
    close: () => agent.destroy(),
  };
}

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
