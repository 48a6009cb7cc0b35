import { matchesFilter, servableAt } from '../../domain/filter.ts';
import type { StoredCoupon } from '../../store/vector-store.ts';
import type { Boost, Candidate, Stage } from '../context.ts';
import { effectiveFilter } from './retrieve.ts';

/**
 * Which merchandising rules fire depends on the query, the filter and the time only, so it is
 * decided before retrieval; the pinned coupons are then fetched beside the search's own retrieval
 * (a pin is often no candidate) and `applyRules` collects them. Part of `retrieve`.
 */
export const matchRules: Stage = {
  name: 'retrieve',
  part: 'rules',
  run(ctx, { rules, store }) {
    const { request } = ctx;
    if (request.surface !== 'search' || !rules?.size) return ctx;
    const fired = rules.match({ queries: [request.query, ...(ctx.correctedQuery ? [ctx.correctedQuery] : [])], filter: request.filter, now: request.now });
    if (!fired.length) return ctx;
    const pinned = [...new Set(fired.flatMap((r) => (r.consequence.pin ?? []).map((p) => p.id)))];
    // Without vectors: pins are placed after diversification, the only stage that needs them.
    // Settled to a value either way: an abandoned request must not leave a rejection unhandled.
    const pinFetch = pinned.length ? store.get(pinned).catch((error: Error) => error) : undefined;
    return { ...ctx, firedRules: fired, pinFetch };
  },
};

/**
 * Merchandising rules (`rules/rule.ts`), after ranking and before diversification: the rules that
 * fired (`matchRules`) hide their coupons, add their boosts (applied by the
 * boost stage next), and set their pins aside for `placePins`, which puts them at their positions
 * once the order is final. A pin obeys validity and the search's filter: a pin of an expired,
 * paused or filtered-out coupon is ignored and said so. A hide beats a pin. Reported under `rank`.
 */
export const applyRules: Stage = {
  name: 'rank',
  part: 'rules',
  async run(ctx) {
    const { request } = ctx;
    const fired = ctx.firedRules ?? [];
    if (!fired.length) return ctx;
    const hidden = new Set(fired.flatMap((r) => r.consequence.hide ?? []));
    const boosts = fired.flatMap((r) => (r.consequence.boost ?? []).map((b): Boost => ({ filter: b.filter, weight: b.weight, reason: `rule ${r.id}` })));
    // One coupon per position and one position per coupon: the first rule in id order wins.
    const wanted: Array<{ id: string; position: number; rule: string }> = [];
    for (const r of fired) {
      for (const p of r.consequence.pin ?? []) {
        if (hidden.has(p.id) || wanted.some((w) => w.id === p.id || w.position === p.position)) continue;
        wanted.push({ ...p, rule: r.id });
      }
    }
    const byId = new Map(ctx.candidates.map((c) => [c.id, c]));
    const fetchedOrError = await ctx.pinFetch;
    const fetched: Map<string, StoredCoupon> = fetchedOrError instanceof Map ? fetchedOrError : new Map();
    const readError = fetchedOrError instanceof Error ? `pinned coupons could not be read (${fetchedOrError.message})` : undefined;
    const eligible = effectiveFilter(ctx)!;
    const pins: NonNullable<typeof ctx.pins> = [];
    const ignored: string[] = [];
    for (const w of wanted) {
      const found = byId.get(w.id) ?? (fetched.has(w.id) ? toCandidate(w.id, fetched.get(w.id)!) : undefined);
      if (!found) ignored.push(`pin of ${w.id} (rule ${w.rule}) ignored: no such coupon`);
      else if (!matchesFilter(found.coupon, eligible))
        ignored.push(
          `pin of ${w.id} (rule ${w.rule}) ignored: ${matchesFilter(found.coupon, servableAt(request.now)) ? 'outside the search filter' : 'not active or not valid now'}`,
        );
      else pins.push({ candidate: { ...found, pinned: { position: w.position, rule: w.rule } }, position: w.position });
    }
    const pinned = new Set(pins.map((p) => p.candidate.id));
    const candidates = ctx.candidates.filter((c) => !hidden.has(c.id) && !pinned.has(c.id));
    const what = fired.map((r) => `${r.id}${r.description ? ` (${r.description})` : ''}`).join(', ');
    const effects = [
      pins.length && `pinned ${pins.map((p) => `${p.candidate.id} at ${p.position}`).join(', ')}`,
      hidden.size && `hid ${ctx.candidates.filter((c) => hidden.has(c.id)).length} candidates (${hidden.size} ids hidden)`,
      boosts.length && `${boosts.length} boost${boosts.length > 1 ? 's' : ''}`,
      ...ignored,
      readError,
    ].filter(Boolean);
    return {
      ...ctx,
      candidates,
      pins: [...(ctx.pins ?? []), ...pins],
      boosts: [...(ctx.boosts ?? []), ...boosts],
      notes: { ...ctx.notes, rank: `${ctx.notes.rank ?? ''}; rules fired: ${what}: ${effects.join('; ')}` },
    };
  },
};

function toCandidate(id: string, stored: { coupon: Candidate['coupon']; vector?: Float32Array | undefined; behavior?: Float32Array | undefined }): Candidate {
  return { id, coupon: stored.coupon, vector: stored.vector, behaviorVector: stored.behavior };
}

/** Puts the pinned coupons at their positions (1-based) in the final order, before paging. Reported under `page`. */
export const placePins: Stage = {
  name: 'page',
  part: 'pins',
  run(ctx) {
    if (!ctx.pins?.length) return ctx;
    const out = [...ctx.candidates];
    for (const p of [...ctx.pins].sort((a, b) => a.position - b.position)) out.splice(Math.min(p.position - 1, out.length), 0, p.candidate);
    const note = `pinned ${ctx.pins.map((p) => `${p.candidate.id} at ${Math.min(p.position, out.length)}`).join(', ')}`;
    return { ...ctx, candidates: out, notes: { ...ctx.notes, page: ctx.notes.page ? `${ctx.notes.page}; ${note}` : note } };
  },
};
