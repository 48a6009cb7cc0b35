import { describe, expect, it } from 'vitest';
import { matchesFilter } from '../../src/domain/filter.ts';
import { understandQuery } from '../../src/search/query-understanding.ts';
import { Thesaurus } from '../../src/synonyms/thesaurus.ts';
import { makeCoupon } from '../support/coupons.ts';

// A Tuesday evening, UTC.
const NOW = new Date('2026-12-01T18:30:00Z');

describe('understandQuery', () => {
  it.each([
    ['half price pizza', 'pizza', 'discount_target', { boost: { discount_pct: { gte: 45 } } }],
    ['50% off shoes', 'shoes', 'discount_target', { boost: { discount_pct: { gte: 45 } } }],
    ['half off sushi', 'sushi', 'discount_target', { boost: { discount_pct: { gte: 45 } } }],
    ['pizza under $20', 'pizza', 'price_cap', { filter: { final_price: { lte: 20 } } }],
    ['sushi less than 15 dollars', 'sushi', 'price_cap', { filter: { final_price: { lte: 15 } } }],
    ['pizza $12.50 or less', 'pizza', 'price_cap', { filter: { final_price: { lte: 12.5 } } }],
    ['bogo burgers', 'burgers', 'discount_kind', { boost: { discount_kind: ['bogo'] } }],
    ['buy one get one free pizza', 'pizza', 'discount_kind', { boost: { discount_kind: ['bogo'] } }],
    ['free shipping sneakers', 'sneakers', 'discount_kind', { boost: { discount_kind: ['free_shipping'] } }],
    ['free pizza', 'pizza', 'discount_kind', { boost: { discount_kind: ['free_item', 'bogo'] } }],
    ['online yoga', 'yoga', 'channel', { filter: { online: true } }],
  ])('"%s" searches "%s" with a %s', (query, rest, as, effect) => {
    const u = understandQuery(query, NOW);
    expect(u.rest).toBe(rest);
    expect(u.understood).toEqual([{ text: expect.any(String), as, ...effect }]);
  });

  it('leaves phrases that only look alike: "gluten free", "kids under 12"', () => {
    for (const q of ['gluten free pizza', 'toys for kids under 12', 'pizza 12 inch'])
      expect(understandQuery(q, NOW)).toEqual({ rest: q, understood: [], unmet: [] });
  });

  it('"near me" boosts within 5 km of the origin, and is unmet without one', () => {
    expect(understandQuery('massage near me', NOW, { lat: 40, lon: -74 }).understood).toEqual([
      { text: 'near me', as: 'distance', boost: { geo: { lat: 40, lon: -74, radius_km: 5 } } },
    ]);
    expect(understandQuery('massage nearby', NOW)).toEqual({ rest: 'massage', understood: [], unmet: ['nearby'] });
  });

  it('times become "valid then, and usable on that weekday"', () => {
    const weekdaysOnly = makeCoupon('w', {
      usable_weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
      valid_from: '2026-11-01T00:00:00Z',
      valid_until: '2026-12-31T00:00:00Z',
    });
    const endsTonight = makeCoupon('e', { valid_from: '2026-11-01T00:00:00Z', valid_until: '2026-12-01T19:00:00Z' });
    const filterOf = (q: string) => understandQuery(q, NOW).understood[0]!.filter!;
    expect(matchesFilter(weekdaysOnly, filterOf('pizza tonight'))).toBe(true);
    expect(matchesFilter(endsTonight, filterOf('pizza tonight'))).toBe(false); // gone by 20:00
    expect(matchesFilter(endsTonight, filterOf('pizza today'))).toBe(true);
    expect(matchesFilter(weekdaysOnly, filterOf('spa this weekend'))).toBe(false);
    expect(matchesFilter(weekdaysOnly, filterOf('dinner on friday'))).toBe(true);
    expect(matchesFilter(weekdaysOnly, filterOf('brunch sunday'))).toBe(false);
  });

  it('reads several phrases at once and keeps the rest in order', () => {
    const u = understandQuery('Half Price sushi under $30 tonight online', NOW);
    expect(u.rest).toBe('sushi');
    expect(u.understood.map((x) => x.as)).toEqual(['discount_target', 'price_cap', 'time', 'channel']);
  });
});

describe('Thesaurus', () => {
  const t = new Thesaurus([
    { id: 'deals', synonyms: ['coupon', 'voucher', 'promo code', 'deal'] },
    { id: 'tv', root: 'tv', synonyms: ['television'] },
  ]);

  it('expands multi-way sets in every direction, on stemmed terms, multi-word phrases included', () => {
    expect(t.expand('Vouchers for pizza')).toEqual({ forms: ['Vouchers for pizza', 'coupon pizza', 'promo code pizza', 'deal pizza'], sets: ['deals'] });
    expect(t.expand('promo codes').forms).toEqual(['promo codes', 'coupon', 'voucher', 'deal']);
  });

  it('expands one-way sets from the root only', () => {
    expect(t.expand('tv stand').forms).toEqual(['tv stand', 'television stand']);
    expect(t.expand('television stand')).toEqual({ forms: ['television stand'], sets: [] });
  });

  it('knows the words of its sets, and bounds the forms of a query', () => {
    expect(t.knows('voucher') && t.knows('promo') && !t.knows('pizza')).toBe(true);
    const many = new Thesaurus([{ id: 'x', synonyms: Array.from({ length: 20 }, (_, i) => `w${i}`) }]);
    expect(many.expand('w0 w1').forms.length).toBe(8);
  });
});
