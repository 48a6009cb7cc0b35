import type { AnalyticsCounts, AnalyticsOptions, EngagementCounts, QueryCounts, ServedOutcome } from './event-store.ts';

/**
 * Search analytics over a time window (the types are the event store port's), from the served-list log and the click, save and redeem
 * events that name a served list's query id (only events on coupons that list showed count).
 * Every figure is a count of served lists or of (list, coupon) pairs, so the PostgreSQL adapter
 * (SQL) and the file store (this module, in process) can be held to the same numbers:
 * - a search is a served list of surface `search`; its query is normalised (case, spaces; the
 *   typo-corrected form is what the log records);
 * - a search "clicked" has at least one click on a coupon it showed (likewise saved, redeemed);
 * - a coupon's impressions are the lists that showed it (any surface), its clicks the lists in
 *   which it was clicked (likewise saves, redemptions); a merchant's are its coupons' summed.
 */
/** Positions reported by the position-wise CTR. */
export const MAX_POSITION = 20;

/** Lower-cased, spaces collapsed: exactly what the SQL adapter's `lower(btrim(regexp_replace(…)))` does (no NFKC, which SQL lacks). */
export const normaliseQuery = (q: string) => q.toLowerCase().replace(/\s+/g, ' ').trim();

/** Ties broken by key, so both adapters list equal counts in the same order. */
const byKey =
  <T>(key: (x: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

/** The reference computation, over served lists joined with their outcomes (the file store runs it). */
export async function computeAnalytics(lists: AsyncIterable<ServedOutcome>, options: AnalyticsOptions): Promise<AnalyticsCounts> {
  const from = options.from.getTime();
  const to = options.to.getTime();
  const queries = new Map<string, QueryCounts & { empty: number }>();
  const coupons = new Map<string, EngagementCounts & { couponId: string; merchantId: string | undefined }>();
  const positions = new Map<number, { impressions: number; clicks: number }>();
  const days = new Map<string, { searches: number; clicked: number }>();
  let searches = 0;
  for await (const list of lists) {
    const t = Date.parse(list.ts);
    if (t < from || t >= to) continue;
    const shown = new Set(list.items.map((i) => i.couponId));
    const did = (type: string) => Object.entries(list.outcomes).some(([id, types]) => shown.has(id) && types.includes(type as never));
    for (const item of list.items) {
      const types = list.outcomes[item.couponId] ?? [];
      const c = coupons.get(item.couponId) ?? { couponId: item.couponId, merchantId: item.merchantId, impressions: 0, clicks: 0, saves: 0, redemptions: 0 };
      c.merchantId ??= item.merchantId;
      c.impressions++;
      if (types.includes('click')) c.clicks++;
      if (types.includes('save')) c.saves++;
      if (types.includes('redeem')) c.redemptions++;
      coupons.set(item.couponId, c);
      if (list.surface === 'search' && item.position < MAX_POSITION) {
        const p = positions.get(item.position) ?? { impressions: 0, clicks: 0 };
        p.impressions++;
        if (types.includes('click')) p.clicks++;
        positions.set(item.position, p);
      }
    }
    if (list.surface !== 'search') continue;
    searches++;
    const query = normaliseQuery(list.query);
    const q = queries.get(query) ?? { query, searches: 0, clicked: 0, saved: 0, redeemed: 0, empty: 0 };
    q.searches++;
    if (list.items.length === 0) q.empty++;
    const day = days.get(list.ts.slice(0, 10)) ?? { searches: 0, clicked: 0 };
    day.searches++;
    if (did('click')) {
      q.clicked++;
      day.clicked++;
    }
    days.set(list.ts.slice(0, 10), day);
    if (did('save')) q.saved++;
    if (did('redeem')) q.redeemed++;
    queries.set(query, q);
  }
  const all = [...queries.values()];
  const merchants = new Map<string, EngagementCounts & { merchantId: string }>();
  for (const c of coupons.values()) {
    if (!c.merchantId) continue;
    const m = merchants.get(c.merchantId) ?? { merchantId: c.merchantId, impressions: 0, clicks: 0, saves: 0, redemptions: 0 };
    m.impressions += c.impressions;
    m.clicks += c.clicks;
    m.saves += c.saves;
    m.redemptions += c.redemptions;
    merchants.set(c.merchantId, m);
  }
  const top = <T extends { query: string; searches: number }>(rows: T[]) =>
    rows
      .sort(byKey((r: T) => r.query))
      .sort((a, b) => b.searches - a.searches)
      .slice(0, options.limit);
  const engaged = <T extends EngagementCounts>(rows: T[], key: (r: T) => string) =>
    rows
      .sort(byKey(key))
      .sort((a, b) => b[options.by] - a[options.by])
      .slice(0, options.limit);
  return {
    searches,
    queries: top(all.map(({ empty: _, ...q }) => q)),
    noResults: top(all.filter((q) => q.empty === q.searches).map((q) => ({ query: q.query, searches: q.searches }))),
    noClicks: top(all.filter((q) => q.empty === 0 && q.clicked === 0).map((q) => ({ query: q.query, searches: q.searches }))),
    coupons: engaged(
      [...coupons.values()].map(({ merchantId: _, ...c }) => c),
      (c) => c.couponId,
    ),
    merchants: engaged([...merchants.values()], (m) => m.merchantId),
    positions: [...positions].map(([position, p]) => ({ position, ...p })).sort((a, b) => a.position - b.position),
    days: [...days].map(([day, d]) => ({ day, ...d })).sort(byKey((d) => d.day)),
  };
}

const rate = (n: number, of: number) => (of > 0 ? Math.round((n / of) * 1e4) / 1e4 : 0);

/** The wire shape: counts with their rates. */
export function withRates(counts: AnalyticsCounts) {
  return {
    searches: counts.searches,
    queries: counts.queries.map((q) => ({
      query: q.query,
      searches: q.searches,
      click_rate: rate(q.clicked, q.searches),
      save_rate: rate(q.saved, q.searches),
      redeem_rate: rate(q.redeemed, q.searches),
    })),
    no_results: counts.noResults,
    no_clicks: counts.noClicks,
    coupons: counts.coupons.map((c) => ({ coupon_id: c.couponId, impressions: c.impressions, clicks: c.clicks, saves: c.saves, redemptions: c.redemptions })),
    merchants: counts.merchants.map((m) => ({
      merchant_id: m.merchantId,
      impressions: m.impressions,
      clicks: m.clicks,
      saves: m.saves,
      redemptions: m.redemptions,
    })),
    positions: counts.positions.map((p) => ({ position: p.position, impressions: p.impressions, clicks: p.clicks, ctr: rate(p.clicks, p.impressions) })),
    days: counts.days,
  };
}
