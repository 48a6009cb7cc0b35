import type { CouponEvent, EventType } from '../domain/event.ts';

/**
 * The event store port: an append-only, idempotent log of interaction events (a replayed event
 * id is ignored), plus the counters the ranker and the recommender read. Adapters: PostgreSQL
 * (`postgres-event-store.ts`, shared by every process) and an embedded append-only file
 * (`file-event-store.ts`, one process). One contract suite runs against both.
 */
export interface AppendResult {
  /** Ids stored by this call. */
  inserted: string[];
  /** Ids already stored before (a replay); they change nothing. */
  duplicates: string[];
}

export interface CountResult {
  /** Events folded in by this call. */
  counted: number;
  /** Users whose affinity changed (their vectors need refreshing). */
  users: string[];
}

/** Popularity of a coupon from its decayed counts. */
export function popularityOf(c: DecayedCounts): number {
  return c.click + c.save + 2 * c.redeem;
}

/** Time-decayed counts (half-life `halfLifeDays`) per event type. */
export type DecayedCounts = Record<EventType, number>;

export interface CouponStats {
  couponId: string;
  counts: DecayedCounts;
}

export interface UserAffinity {
  userId: string;
  /** Decayed positive interactions per category and per merchant. */
  categories: Record<string, number>;
  merchants: Record<string, number>;
  /** Coupons the user redeemed or dismissed: never recommended again. */
  excluded: string[];
  /** Most recent positively interacted coupons, newest first. */
  recent: string[];
}

/** Category and merchant of a coupon, for user affinity (looked up when counters are applied). */
export type CouponFacts = (couponIds: string[]) => Promise<Map<string, { categories: string[]; merchantId: string }>>;

export interface EventStore {
  readonly kind: string;
  open(): Promise<void>;
  append(events: readonly CouponEvent[]): Promise<AppendResult>;
  /**
   * Folds stored-but-uncounted events into the counters, exactly once per event however often it
   * is called (the counters job calls it). Returns how many events it counted.
   */
  applyCounters(eventIds: readonly string[], facts: CouponFacts): Promise<CountResult>;
  /** The most engaged-with coupons (decayed clicks + saves + 2 × redemptions), best first. */
  popular(limit: number, at?: Date): Promise<Array<{ couponId: string; score: number }>>;
  couponStats(couponIds: readonly string[], at?: Date): Promise<Map<string, CouponStats>>;
  userAffinity(userId: string, at?: Date): Promise<UserAffinity>;
  count(): Promise<number>;
  /** Cheap reachability check for readiness probes; throws when the store cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const HALF_LIFE_DAYS = 14;
export const POSITIVE: ReadonlySet<EventType> = new Set(['click', 'save', 'redeem']);
export const EXCLUDING: ReadonlySet<EventType> = new Set(['redeem', 'dismiss']);

/** exp decay factor from `from` to `to` with the store's half-life. */
export function decay(fromMs: number, toMs: number, halfLifeDays = HALF_LIFE_DAYS): number {
  return Math.pow(0.5, Math.max(0, toMs - fromMs) / (halfLifeDays * 86_400_000));
}

export function emptyCounts(): DecayedCounts {
  return { impression: 0, click: 0, save: 0, redeem: 0, dismiss: 0 };
}
