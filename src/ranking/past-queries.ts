import type { EventStore } from '../events/event-store.ts';
import type { Logger } from '../log.ts';
import { normalisePhrase, tokenize } from '../text/tokenize.ts';
import { outcomeGain } from './train-from-logs.ts';

/** A coupon's engagement after searches like the one being ranked: similarity-weighted. */
export interface PastQueryAffinity {
  /** Σ over similar past queries of similarity × engagement with the coupon after them. */
  sum: number;
  /** The largest single term of that sum. */
  max: number;
}

interface PastQuery {
  terms: string[];
  /** Engagement weight per coupon id (`outcomeGain`: click 1, save 2, redemption 3; or a graded judgment). */
  coupons: Map<string, number>;
  /** Length of its IDF-weighted term vector (set by `prepare`). */
  norm: number;
}

/** Past queries kept: the newest, so memory stays bounded on a busy site. */
const MAX_QUERIES = 200_000;
/** The most similar past queries a lookup sums over: the rest share a common word at most, and weigh little. */
const MAX_SIMILAR = 200;
/**
 * Past queries read per query word, shortest first: for one shared word the shortest are the most
 * similar, and a word in tens of thousands of past queries ("pizza") must not cost a scan of all.
 */
const MAX_SCAN_PER_TERM = 1000;

/**
 * What shoppers engaged with after past searches, looked up for a new search by the past queries
 * it resembles: "deck screws 3 inch" gets the coupons clicked after "deck screws" and "3 inch
 * screws". Similarity is the cosine of IDF-weighted term sets, IDF counted over the past queries
 * (a word every query has says little). This is the engine learning from its own traffic, the
 * memorisation behind click-through features in e-commerce ranking; the learned ranker takes it
 * as features (`past_query_*`), so an untrained install is unaffected.
 *
 * Only queries followed by engagement are kept; the oldest go first past MAX_QUERIES. Lookups
 * read an index `prepare` builds after the writes (IDF, norms, per-word lists shortest first).
 */
export class PastQueryEngagement {
  private readonly queries = new Map<string, PastQuery>();
  private readonly byTerm = new Map<string, Set<PastQuery>>();
  private prepared: { idf: Map<string, number>; unseenIdf: number; postings: Map<string, PastQuery[]> } | undefined;

  get size(): number {
    return this.queries.size;
  }

  /** Records `weight` of engagement with `couponId` after a search for `query`. */
  add(query: string, couponId: string, weight: number): void {
    if (!(weight > 0)) return;
    const key = normalisePhrase(query);
    let past = this.queries.get(key);
    if (!past) {
      const terms = [...new Set(tokenize(query))];
      if (terms.length === 0) return;
      past = { terms, coupons: new Map(), norm: 1 };
      this.queries.set(key, past);
      for (const t of terms) (this.byTerm.get(t) ?? this.byTerm.set(t, new Set()).get(t)!).add(past);
      if (this.queries.size > MAX_QUERIES) this.forget(this.queries.keys().next().value!);
    }
    past.coupons.set(couponId, (past.coupons.get(couponId) ?? 0) + weight);
    this.prepared = undefined;
  }

  /** Builds the lookup index; the first lookup after writes does it if the writer did not. */
  prepare(): void {
    if (this.prepared) return;
    const n = this.queries.size;
    const idf = new Map<string, number>();
    for (const [t, pasts] of this.byTerm) idf.set(t, Math.log(1 + n / (1 + pasts.size)));
    for (const past of this.queries.values()) past.norm = Math.sqrt(past.terms.reduce((sum, t) => sum + idf.get(t)! ** 2, 0)) || 1;
    const postings = new Map<string, PastQuery[]>();
    for (const [t, pasts] of this.byTerm)
      postings.set(
        t,
        [...pasts].sort((a, b) => a.norm - b.norm),
      );
    this.prepared = { idf, unseenIdf: Math.log(1 + n), postings };
  }

  /**
   * Coupons engaged with after past searches sharing a term with `query` (the query itself
   * included, when it was searched before). `exclude` leaves one past query out: a training list
   * must not see its own engagement.
   */
  affinity(query: string, options: { exclude?: string } = {}): Map<string, PastQueryAffinity> {
    this.prepare();
    const { idf, unseenIdf, postings } = this.prepared!;
    const out = new Map<string, PastQueryAffinity>();
    const terms = [...new Set(tokenize(query))];
    const excluded = options.exclude === undefined ? undefined : this.queries.get(normalisePhrase(options.exclude));
    const dots = new Map<PastQuery, number>();
    let queryNorm = 0;
    for (const t of terms) {
      const w = (idf.get(t) ?? unseenIdf) ** 2;
      queryNorm += w;
      const list = postings.get(t) ?? [];
      for (let i = 0; i < list.length && i < MAX_SCAN_PER_TERM; i++) {
        const past = list[i]!;
        if (past !== excluded) dots.set(past, (dots.get(past) ?? 0) + w);
      }
    }
    queryNorm = Math.sqrt(queryNorm) || 1;
    const similar = [...dots].map(([past, dot]) => ({ past, similarity: dot / (queryNorm * past.norm) }));
    if (similar.length > MAX_SIMILAR) similar.sort((a, b) => b.similarity - a.similarity).length = MAX_SIMILAR;
    for (const { past, similarity } of similar) {
      for (const [couponId, weight] of past.coupons) {
        const x = similarity * weight;
        const a = out.get(couponId);
        if (a) {
          a.sum += x;
          a.max = Math.max(a.max, x);
        } else out.set(couponId, { sum: x, max: x });
      }
    }
    return out;
  }

  private forget(key: string): void {
    const past = this.queries.get(key);
    if (!past) return;
    this.queries.delete(key);
    for (const t of past.terms) {
      const pasts = this.byTerm.get(t)!;
      pasts.delete(past);
      if (pasts.size === 0) this.byTerm.delete(t);
    }
  }
}

/** How far back the served-list log is read. */
const MEMORY_DAYS = 30;

/**
 * The engagement after past searches, kept current: built from the served-list log joined to
 * clicks, saves and redemptions (the last MEMORY_DAYS), rebuilt in the background every
 * `refreshMs`. Until the first build, and when a rebuild fails, searches see the previous one
 * (empty at first: the features say "missing").
 */
export class PastQueryMemory {
  current = new PastQueryEngagement();
  private timer: NodeJS.Timeout | undefined;
  private building: Promise<void> | undefined;

  constructor(
    private readonly events: Pick<EventStore, 'servedOutcomes'>,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  start(refreshMs: number): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
  }

  /** Rebuilds from the log (one build at a time); resolves when done. */
  refresh(): Promise<void> {
    this.building ??= (async () => {
      try {
        const next = new PastQueryEngagement();
        const since = new Date(this.clock().getTime() - MEMORY_DAYS * 86_400_000);
        for await (const list of this.events.servedOutcomes({ since, engagedOnly: true })) {
          if (list.surface !== 'search' || !list.query.trim()) continue;
          for (const [couponId, types] of Object.entries(list.outcomes)) next.add(list.query, couponId, outcomeGain(types));
        }
        next.prepare();
        this.current = next;
      } catch (error) {
        this.logger.warn({ err: error }, 'past searches could not be read; ranking keeps the previous memory of them');
      } finally {
        this.building = undefined;
      }
    })();
    return this.building;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
