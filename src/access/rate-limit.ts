import { Redis } from 'ioredis';

/**
 * Token buckets: `rate` tokens a second up to `burst`; a request takes one. In Redis (shared by
 * every API process, atomic in one Lua script on Redis's own clock) when REDIS_URL is set, else
 * in process. If Redis stops answering, the limiter falls back to the in-process buckets rather
 * than refusing or blocking traffic.
 */
export interface BucketLimit {
  rate: number;
  burst: number;
}

export interface TakeResult {
  ok: boolean;
  /** Seconds until a token is available (when refused). */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  take(bucket: string, limit: BucketLimit): Promise<TakeResult>;
  close(): Promise<void>;
}

export class InProcessRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  async take(bucket: string, { rate, burst }: BucketLimit, now = performance.now()): Promise<TakeResult> {
    const b = this.buckets.get(bucket) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    // Re-insert so the Map's order is least recently used first; drop the oldest past 100k buckets.
    this.buckets.delete(bucket);
    this.buckets.set(bucket, b);
    if (this.buckets.size > 100_000) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, retryAfterSeconds: 0 };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / rate)) };
  }

  async close(): Promise<void> {}
}

const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
local ok, wait = 0, 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 else wait = math.ceil((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {ok, wait}`;

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly fallback = new InProcessRateLimiter();

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    // Fail fast: a limiter that waits on a dead Redis would stall every request.
    this.redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 200, lazyConnect: false });
    this.redis.on('error', () => undefined);
  }

  async take(bucket: string, limit: BucketLimit): Promise<TakeResult> {
    try {
      const [ok, wait] = (await this.redis.eval(TAKE, 1, `${this.prefix}:ratelimit:${bucket}`, limit.rate, limit.burst)) as [number, number];
      return { ok: ok === 1, retryAfterSeconds: ok === 1 ? 0 : Math.max(1, wait) };
    } catch {
      return this.fallback.take(bucket, limit);
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/**
 * The per-key cap on events per user: each event takes a token from the bucket of its user under
 * the key that posted it (`perMinute` a minute, a minute's worth as burst). A public widget key
 * can be used by anyone, so this bounds what one forged user id can add to feeds and training
 * logs. Returns the events within the cap, in order, and when the first refused one may retry.
 */
export async function withinUserEventCap<E extends { user_id: string }>(
  limiter: RateLimiter,
  keyId: string,
  events: readonly E[],
  perMinute: number,
): Promise<{ kept: E[]; over: number; retryAfterSeconds: number }> {
  if (perMinute <= 0) return { kept: [...events], over: 0, retryAfterSeconds: 0 };
  const limit = { rate: perMinute / 60, burst: perMinute };
  const taken = await Promise.all(events.map((e) => limiter.take(`events:${keyId}:${e.user_id}`, limit)));
  const kept = events.filter((_, i) => taken[i]!.ok);
  const refused = taken.filter((t) => !t.ok);
  return { kept, over: refused.length, retryAfterSeconds: Math.max(0, ...refused.map((t) => t.retryAfterSeconds)) };
}
