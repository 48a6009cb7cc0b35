import { WEEKDAYS, type Weekday } from '../domain/coupon.ts';
import type { Filter } from '../domain/filter.ts';
import type { GeoPoint } from '../domain/geo.ts';

/**
 * Coupon query understanding: phrases that carry structure ("half price", "under $15", "bogo",
 * "near me", "tonight", "online") become filters or boosts, and leave the words that retrieval and
 * ranking see. A filter is a constraint the shopper stated (a price cap, a time, online); a boost
 * is a preference (a discount depth or kind, being near): coupons that satisfy it come first, the
 * rest still follow, so a catalogue with few bogo pizzas still answers "bogo pizza".
 */
export const UNDERSTOOD_KINDS = ['discount_target', 'price_cap', 'discount_kind', 'distance', 'time', 'channel'] as const;
export type UnderstoodKind = (typeof UNDERSTOOD_KINDS)[number];

/** What one phrase of the query became (the wire shape of `understood`). */
export interface Understood {
  /** The phrase as the shopper typed it. */
  text: string;
  as: UnderstoodKind;
  /** A constraint every result satisfies. */
  filter?: Filter;
  /** A preference: results matching it move above the others. */
  boost?: Filter;
}

export interface Understanding {
  /** The query without the understood phrases: what retrieval and ranking search for. */
  rest: string;
  understood: Understood[];
  /** Phrases recognised but not applicable (e.g. "near me" without a location), for explain. */
  unmet: string[];
}

interface Context {
  now: Date;
  origin: GeoPoint | undefined;
}

type Reading = Omit<Understood, 'text'> | 'unmet';

interface PhraseRule {
  pattern: RegExp;
  read(match: RegExpExecArray, context: Context): Reading | undefined;
}

/** How far below a stated discount a coupon still counts as meeting it ("half price" takes 45 % and up). */
export const DISCOUNT_TOLERANCE = 5;
/** What "near me" prefers: stores within this radius. */
export const NEAR_ME_KM = 5;

const MONEY = String.raw`(?:\$|€|£|usd\s?)`;
const AMOUNT = String.raw`(\d{1,6}(?:\.\d{1,2})?)`;
const CURRENCY_WORD = '(?:dollars?|bucks|usd|euros?|pounds?)';
const DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

const discountAtLeast = (percent: number): Reading => ({
  as: 'discount_target',
  boost: { discount_pct: { gte: Math.max(0, percent - DISCOUNT_TOLERANCE) } },
});

/** In order: longer phrases first, so "buy one get one free" is not read as "free". */
const RULES: PhraseRule[] = [
  { pattern: /\b(?:half[\s-]?(?:price|off)|fifty\s+percent\s+off)\b/giu, read: () => discountAtLeast(50) },
  {
    pattern: /(?:\b(?:at\s+least|min(?:imum)?)\s+)?\b(\d{1,3})\s?(?:%|\bpercent\b)(?:\s*off\b)?/giu,
    read: (m) => (Number(m[1]) <= 100 ? discountAtLeast(Number(m[1])) : undefined),
  },
  {
    // "under $15", "less than 15 dollars", "below 20 bucks": a currency is required ("kids under 12" is no price).
    pattern: new RegExp(
      String.raw`\b(?:under|below|less\s+than|cheaper\s+than|at\s+most|max(?:imum)?|up\s+to)\s+(${MONEY})?${AMOUNT}(\s?${CURRENCY_WORD}\b)?`,
      'giu',
    ),
    read: (m) => (m[1] || m[3] ? { as: 'price_cap', filter: { final_price: { lte: Number(m[2]) } } } : undefined),
  },
  {
    pattern: new RegExp(String.raw`${MONEY}${AMOUNT}\s+or\s+(?:less|under|cheaper)\b`, 'giu'),
    read: (m) => ({ as: 'price_cap', filter: { final_price: { lte: Number(m[1]) } } }),
  },
  {
    pattern: /\b(?:bogo|b1g1|buy\s+one,?\s+get\s+one(?:\s+free)?|(?:2|two)\s*for\s*(?:1|one))\b/giu,
    read: () => ({ as: 'discount_kind', boost: { discount_kind: ['bogo'] } }),
  },
  { pattern: /\bfree\s+(?:shipping|delivery)\b/giu, read: () => ({ as: 'discount_kind', boost: { discount_kind: ['free_shipping'] } }) },
  // "free pizza", "pizza for free" — not "gluten free pizza", where "free" describes the food.
  { pattern: /(?:^\s*free\b|\bfor\s+free\b)/giu, read: () => ({ as: 'discount_kind', boost: { discount_kind: ['free_item', 'bogo'] } }) },
  {
    pattern: /\b(?:near\s+(?:me|by|here)|nearby|close\s+(?:to\s+me|by)|around\s+me)\b/giu,
    read: (_m, { origin }) => (origin ? { as: 'distance', boost: { geo: { ...origin, radius_km: NEAR_ME_KM } } } : 'unmet'),
  },
  {
    pattern: new RegExp(String.raw`\b(?:today|tonight|tomorrow|this\s+weekend|(?:this\s+|on\s+)?(?:${DAY_NAMES.join('|')}))\b`, 'giu'),
    read: (m, { now }) => ({ as: 'time', filter: validWhen(m[0].toLowerCase().replace(/\s+/g, ' '), now) }),
  },
  { pattern: /\bonline(?:\s+only)?\b/giu, read: () => ({ as: 'channel', filter: { online: true } }) },
  { pattern: /\bin[\s-]store\b/giu, read: () => ({ as: 'channel', filter: { in_store: true } }) },
];

/** Reads the query's coupon phrases; the same query, time and place always give the same result. */
export function understandQuery(query: string, now: Date, origin?: GeoPoint): Understanding {
  let rest = query;
  const understood: Understood[] = [];
  const unmet: string[] = [];
  for (const rule of RULES) {
    rest = rest.replace(rule.pattern, (...args) => {
      const match = Object.assign([...args.slice(0, -2)], { index: args.at(-2), input: args.at(-1) }) as unknown as RegExpExecArray;
      const reading = rule.read(match, { now, origin });
      if (!reading) return match[0];
      const text = match[0].trim();
      if (reading === 'unmet') unmet.push(text);
      else understood.push({ text, ...reading });
      return ' ';
    });
  }
  return { rest: rest.replace(/\s+/g, ' ').trim(), understood, unmet };
}

/** Valid at the time the phrase names (UTC) and usable on its weekday. */
function validWhen(phrase: string, now: Date): Filter {
  const at = (t: Date): Filter => ({ and: [{ valid_at: t.toISOString() }, { usable_on: [weekdayOf(t)] }] });
  const noon = (daysAhead: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + daysAhead, 12));
  if (phrase === 'today') return at(now);
  if (phrase === 'tomorrow') return at(noon(1));
  if (phrase === 'tonight') {
    const evening = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 20));
    return at(evening > now ? evening : now);
  }
  if (phrase === 'this weekend') {
    const today = weekdayOf(now);
    const days = today === 'sun' ? [now] : today === 'sat' ? [now, noon(1)] : [noon(daysUntil('sat', now)), noon(daysUntil('sun', now))];
    return { and: [{ or: days.map((d) => ({ valid_at: d.toISOString() })) }, { usable_on: ['sat', 'sun'] }] };
  }
  const name = phrase.replace(/^(this|on) /, '');
  const day = WEEKDAYS[DAY_NAMES.indexOf(name)]!;
  const ahead = daysUntil(day, now);
  return at(ahead === 0 ? now : noon(ahead));
}

function weekdayOf(t: Date): Weekday {
  return WEEKDAYS[(t.getUTCDay() + 6) % 7]!;
}

/** Days from `now` to the next `day` (0 when it is today). */
function daysUntil(day: Weekday, now: Date): number {
  return (WEEKDAYS.indexOf(day) - WEEKDAYS.indexOf(weekdayOf(now)) + 7) % 7;
}
