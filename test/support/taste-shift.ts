import type { Coupon } from '../../src/domain/coupon.ts';
import { api } from './server.ts';

/** One shopper's feed before and after their visit: how many of its coupons are of each category. */
export interface TasteShift {
  from: string;
  to: string;
  /** After the weeks' clicks, before the visit. */
  before: { from: number; to: number };
  /** After the visit. */
  after: { from: number; to: number };
}

/**
 * Shoppers whose taste shifts during a visit, through the API: each new user clicks 8 coupons of
 * one category over the past weeks (their feed is read), then 3 of another in one visit (read
 * again). Up to 6 such shoppers, each with another pair of categories.
 */
export async function tasteShiftFeeds(baseUrl: string, indexed: readonly Coupon[], userPrefix: string): Promise<TasteShift[]> {
  const active = indexed.filter((c) => c.status === 'active' && Date.parse(c.valid_until) > Date.now());
  const byCategory = new Map<string, Coupon[]>();
  for (const c of active) byCategory.set(c.categories[0]!, [...(byCategory.get(c.categories[0]!) ?? []), c]);
  const categories = [...byCategory].filter(([, cs]) => cs.length >= 30).map(([name]) => name);
  const pairs = categories.flatMap((from, i) => categories.filter((_, j) => j !== i).map((to) => [from, to] as const)).slice(0, 6);
  const shifts: TasteShift[] = [];
  for (const [k, [from, to]] of pairs.entries()) {
    const user = `${userPrefix}-${k}`;
    const now = Date.now();
    const click = (c: Coupon, ts: number, n: number) => ({
      event_id: `${user}-${n}`,
      user_id: user,
      coupon_id: c.id,
      type: 'click',
      ts: new Date(ts).toISOString(),
    });
    const weeks = byCategory
      .get(from)!
      .slice(k, k + 8)
      .map((c, n) => click(c, now - (30 - n) * 86_400_000, n));
    const visit = byCategory
      .get(to)!
      .slice(k, k + 3)
      .map((c, n) => click(c, now - (3 - n) * 60_000, 8 + n));
    const feed = async (events: unknown[]) => {
      const posted = await api(baseUrl, 'POST', '/v1/events', { events });
      if (posted.status !== 202) throw new Error(`POST /v1/events answered ${posted.status}`);
      const res = await api(baseUrl, 'GET', `/v1/users/${user}/recommendations?limit=10`);
      if (res.status !== 200) throw new Error(`the feed answered ${res.status}`);
      const shown = (res.json.results as Array<{ coupon: Coupon }>).map((r) => r.coupon.categories[0]);
      return { from: shown.filter((c) => c === from).length, to: shown.filter((c) => c === to).length };
    };
    shifts.push({ from, to, before: await feed(weeks), after: await feed(visit) });
  }
  return shifts;
}

/** Shoppers whose feed after the visit shows more of the visit's category than of the weeks'. */
export const followedTheVisit = (shifts: readonly TasteShift[]) => shifts.filter((s) => s.after.to > s.after.from).length;
