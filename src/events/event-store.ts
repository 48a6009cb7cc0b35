import type { EventType, RecordedEvent } from '../domain/event.ts';

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
  /**
   * Users with a click, save or redemption among these events: only those change a user's affinity
   * and recent positives, so only their vectors need refreshing (impressions, most events, do not).
   */
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
  /** The latest positive events themselves (repeats kept), newest first, at most RECENT_EVENTS: what a sequence model reads. */
  recentEvents: RecentEvent[];
}

/** Positive events a user's affinity carries: the sequence model's longest window. */
export const RECENT_EVENTS = 50;

export interface RecentEvent {
  couponId: string;
  type: EventType;
  ts: string;
}

/**
 * One served result list, logged so the ranker can be trained on what shoppers actually saw:
 * each shown coupon with the position and the feature row (schema `featuresVersion`) it was
 * ranked with. Clicks, saves and redemptions carrying the same `query_id` join back to it.
 */
export interface ServedList {
  queryId: string;
  ts: string;
  surface: 'search' | 'similar' | 'feed';
  /** The query text; for similar coupons the seed coupon id; for feeds the recent query or ''. */
  query: string;
  userId?: string | undefined;
  /** The scorer that ordered the list (name and model version). */
  scorer: string;
  /** The term statistics the lexical features used (`uniform`, or a ranker version). */
  idf: string;
  featuresVersion: number;
  /** Each shown coupon, its 0-based position and feature row, its merchant (for analytics; absent in older logs), and in a ranker experiment the team that placed it. */
  items: Array<{ couponId: string; position: number; features: number[]; merchantId?: string; team?: 'a' | 'b' }>;
  /** The two rankers of an interleaving experiment (RANKER_EXPERIMENT), when one ran. */
  experiment?: { a: string; b: string } | undefined;
}

export interface ServedOutcomeOptions {
  /** Lists served from this instant on. */
  since?: Date | undefined;
  /** Leave out the events these API keys posted (a public widget key whose traffic is not trusted for training). */
  excludeKeys?: readonly string[] | undefined;
  /**
   * Only the lists a click, save or redemption names (all that memory of past searches learns
   * from): the store leaves the others unread, which on a busy site is nearly the whole log.
   */
  engagedOnly?: boolean | undefined;
}

/** A click, save or redemption, as training reads it. */
export interface PositiveEvent {
  userId: string;
  couponId: string;
  type: EventType;
  ts: string;
}

export interface PositiveEventOptions {
  /** None before this date. */
  since?: Date | undefined;
}

export interface RecentSearchOptions {
  since: Date;
  limit: number;
}

/** One served search: its text and how many coupons the page showed. */
export interface RecentSearch {
  query: string;
  results: number;
}

/** A served list with what the shopper did next: the positive event types per coupon id. */
export interface ServedOutcome extends ServedList {
  outcomes: Record<string, EventType[]>;
}

/** Category and merchant of a coupon, for user affinity (looked up when counters are applied). */
export type CouponFacts = (couponIds: string[]) => Promise<Map<string, { categories: string[]; merchantId: string }>>;

export interface EventStore {
  readonly kind: string;
  open(): Promise<void>;
  append(events: readonly RecordedEvent[]): Promise<AppendResult>;
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
  /**
   * Records served lists. Telemetry, not acknowledged data: adapters may buffer, and a crash may
   * lose the last second of lists (never an event).
   */
  logServed(lists: readonly ServedList[]): Promise<void>;
  /** Served lists (oldest first) joined with the click, save and redeem events naming their query id. */
  servedOutcomes(options?: ServedOutcomeOptions): AsyncIterable<ServedOutcome>;
  /**
   * Every click, save and redemption (optionally from `since` on), oldest first: the interactions
   * `train:recommender --from-events` learns from.
   */
  positiveEvents(options?: PositiveEventOptions): AsyncIterable<PositiveEvent>;
  /**
   * The newest searches (query text and results shown), newest first, at most `limit` and none
   * before `since`: what autocomplete learns at start-up, read without going through the whole log.
   */
  recentSearches(options: RecentSearchOptions): Promise<RecentSearch[]>;
  /** Search analytics over a window, as counts (`events/analytics.ts` defines each figure). */
  analytics(options: AnalyticsOptions): Promise<AnalyticsCounts>;
  /** Cheap reachability check for readiness probes; throws when the store cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Search analytics, as counts: `analytics.ts` defines each figure and computes them for the file store. */
export interface AnalyticsWindow {
  from: Date;
  to: Date;
}

export interface AnalyticsOptions extends AnalyticsWindow {
  /** Rows per list. */
  limit: number;
  /** Order of the coupon and merchant lists. */
  by: 'impressions' | 'clicks' | 'redemptions';
}

export interface QueryCounts {
  query: string;
  searches: number;
  clicked: number;
  saved: number;
  redeemed: number;
}

export interface EngagementCounts {
  impressions: number;
  clicks: number;
  saves: number;
  redemptions: number;
}

/** What an event store answers: counts only (rates are derived from them in one place, `withRates`). */
export interface AnalyticsCounts {
  searches: number;
  /** Queries by searches, most first. */
  queries: QueryCounts[];
  /** Queries whose searches found nothing, by searches. */
  noResults: Array<{ query: string; searches: number }>;
  /** Queries that found coupons in every search and were never clicked, by searches. */
  noClicks: Array<{ query: string; searches: number }>;
  coupons: Array<EngagementCounts & { couponId: string }>;
  merchants: Array<EngagementCounts & { merchantId: string }>;
  /** Search result positions (0-based): lists that showed something there, and those clicked there. */
  positions: Array<{ position: number; impressions: number; clicks: number }>;
  /** Searches per UTC day (YYYY-MM-DD), and how many were clicked, oldest first. */
  days: Array<{ day: string; searches: number; clicked: number }>;
}

export const HALF_LIFE_DAYS = 14;
export const POSITIVE: ReadonlySet<EventType> = new Set(['click', 'save', 'redeem']);
export const EXCLUDING: ReadonlySet<EventType> = new Set(['redeem', 'dismiss']);

/** exp decay factor from `from` to `to` with the store's half-life. */
export function decay(fromMs: number, toMs: number, halfLifeDays = HALF_LIFE_DAYS): number {
  return 0.5 ** (Math.max(0, toMs - fromMs) / (halfLifeDays * 86_400_000));
}

export function emptyCounts(): DecayedCounts {
  return { impression: 0, click: 0, save: 0, redeem: 0, dismiss: 0 };
}
