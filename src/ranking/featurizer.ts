import { discountPercent, type Coupon } from '../domain/coupon.ts';
import { nearestDistanceKm } from '../domain/geo.ts';
import { dot } from '../embed/embedder.ts';
import { popularityOf } from '../events/event-store.ts';
import type { Candidate, Featurizer, SearchContext, SearchDeps } from '../search/context.ts';
import { titleProfileOf } from '../text/title-match.ts';
import { prepareQuery, RANKING_FEATURES, rankingFeatures, type CandidateSignals, type IdfLookup } from './features.ts';

const DAY_MS = 86_400_000;

/**
 * Computes the ranking features of every candidate of a request: the lexical block from the
 * query and title, the context block from the event store's counters, the shopper (affinity and
 * behaviour vector) and the request's location. Runs whether or not a model is loaded, because
 * `explain` shows the features and the served-list logs a future model is trained on record them.
 */
export class RankingFeaturizer implements Featurizer {
  readonly featureNames: readonly string[] = RANKING_FEATURES;

  /**
   * @param idf term statistics of the loaded ranker (its IDF features must match its training);
   *   without a ranker every term weighs 1.
   * @param idfSource what `idf` is, recorded with every served list.
   */
  constructor(
    private readonly idf: IdfLookup,
    readonly idfSource: string,
  ) {}

  static uniform(): RankingFeaturizer {
    return new RankingFeaturizer(() => 1, 'uniform');
  }

  /** Feature rows in candidate order; a failing signal source degrades to "missing", with a note. */
  async compute(ctx: SearchContext, deps: Pick<SearchDeps, 'events' | 'pastQueries'>): Promise<{ rows: Float32Array[]; note?: string }> {
    const { candidates, request } = ctx;
    let signals: CandidateSignals[];
    let note: string | undefined;
    try {
      signals = await gatherSignals(ctx, deps);
    } catch (error) {
      signals = candidates.map((c) => couponSignals(c.coupon, request.now, request.origin));
      note = `engagement and personal signals unavailable (${(error as Error).message})`;
    }
    // Keyed by the query as the served-list log records it: as searched, typo corrections included.
    const searched = request.surface === 'search' ? (ctx.correctedQuery ?? request.query) : '';
    const past = searched.trim() ? deps.pastQueries?.affinity(searched) : undefined;
    if (past?.size) candidates.forEach((c, i) => (signals[i]!.pastQueries = past.get(c.id)));
    const maxBm25 = Math.max(0, ...candidates.map((c) => c.lexical?.score ?? 0));
    // With synonyms, each coupon is featurized with the query form its title uses (chosen by the fusion).
    const prepared = (ctx.queryForms ?? [ctx.queryText]).map((form) => prepareQuery(form, { idf: this.idf, maxBm25 }));
    const rows = candidates.map((c, i) => {
      const q = prepared[c.queryForm ?? 0] ?? prepared[0]!;
      const input = {
        title: c.coupon.title,
        profile: titleProfileOf(c.coupon),
        dense: c.dense,
        bm25: c.lexical,
        fusedRank: c.fused?.rank ?? candidates.length,
      };
      return rankingFeatures(q, input, signals[i]);
    });
    return { rows, ...(note && { note }) };
  }
}

/** What the coupon itself says: validity, discount depth, distance, sponsorship. */
function couponSignals(coupon: Coupon, now: Date, origin: SearchContext['request']['origin']): CandidateSignals {
  const depth = discountPercent(coupon);
  return {
    ageDays: (now.getTime() - Date.parse(coupon.valid_from)) / DAY_MS,
    daysToExpiry: (Date.parse(coupon.valid_until) - now.getTime()) / DAY_MS,
    // A fixed amount without a price, or free shipping, has no depth: missing, not zero.
    discountDepth: depth > 0 || coupon.discount.kind === 'percent' ? depth / 100 : undefined,
    distanceKm: origin ? nearestDistanceKm(origin, coupon.locations) : undefined,
    sponsored: coupon.sponsored_boost,
  };
}

async function gatherSignals(ctx: SearchContext, { events }: Pick<SearchDeps, 'events'>): Promise<CandidateSignals[]> {
  const { candidates, request } = ctx;
  const ids = candidates.map((c) => c.id);
  const userVector = request.user?.vector ?? (request.surface === 'feed' ? request.userVector : undefined);
  // Behaviour vectors came with the candidates from retrieval: only the counters are read here.
  const stats = events ? await events.couponStats(ids, request.now) : new Map();
  const affinity = request.user?.affinity;
  const categoryTotal = affinity ? Object.values(affinity.categories).reduce((a, b) => a + b, 0) : 0;
  const merchantTotal = affinity ? Object.values(affinity.merchants).reduce((a, b) => a + b, 0) : 0;
  return candidates.map((c: Candidate): CandidateSignals => {
    const signals = couponSignals(c.coupon, request.now, request.origin);
    const s = stats.get(c.id);
    if (s) signals.engagement = { popularity: popularityOf(s.counts), clicks: s.counts.click, impressions: s.counts.impression };
    if (userVector && c.behaviorVector) signals.cfScore = dot(userVector, c.behaviorVector);
    if (categoryTotal > 0)
      signals.categoryAffinity = Math.min(1, c.coupon.categories.reduce((sum, cat) => sum + (affinity!.categories[cat] ?? 0), 0) / categoryTotal);
    if (merchantTotal > 0) signals.merchantAffinity = (affinity!.merchants[c.coupon.merchant.id] ?? 0) / merchantTotal;
    return signals;
  });
}
