import { describe, expect, it } from 'vitest';
import { PastQueryEngagement } from '../../src/ranking/past-queries.ts';

describe('engagement after past searches', () => {
  const memory = () => {
    const m = new PastQueryEngagement();
    m.add('deck screws', 'screws-box', 2);
    m.add('deck screws', 'stain', 0.5);
    m.add('Deck  Screws', 'screws-box', 1); // the same query, typed differently
    m.add('wood stain', 'stain', 1);
    m.add('outdoor wood stain', 'stain', 1);
    m.add('nothing', 'zero', 0); // no engagement: not kept
    return m;
  };

  it('gives a new query the coupons engaged with after the past queries it resembles', () => {
    const a = memory().affinity('deck screws 3 inch');
    expect([...a.keys()].sort()).toEqual(['screws-box', 'stain']);
    expect(a.get('screws-box')!.sum).toBeGreaterThan(a.get('stain')!.sum);
    // One similar query: the sum is its single term, below the raw weight (the queries differ).
    expect(a.get('screws-box')!.sum).toBe(a.get('screws-box')!.max);
    expect(a.get('screws-box')!.max).toBeLessThan(3);
    expect(a.get('screws-box')!.max).toBeGreaterThan(1);
  });

  it('weighs the queries by similarity: the same query counts in full, a shared rare word more than a shared common one', () => {
    const m = memory();
    expect(m.affinity('deck screws').get('screws-box')!.max).toBeCloseTo(3, 6);
    // "stain" is in two past queries and "deck" in one: "deck" says more.
    const viaDeck = m.affinity('deck').get('stain')!.sum;
    const viaStain = m.affinity('stain').get('stain')!.max;
    expect(viaDeck).toBeCloseTo((0.5 * m.affinity('deck').get('screws-box')!.max) / 3, 6);
    expect(viaStain).toBeLessThan(1);
  });

  it('leaves one past query out on request (a training list must not see its own engagement)', () => {
    const m = memory();
    expect(m.affinity('deck screws', { exclude: 'DECK screws' }).has('screws-box')).toBe(false);
    expect(m.affinity('deck screws', { exclude: 'DECK screws' }).has('stain')).toBe(false);
    expect(m.affinity('wood stain', { exclude: 'wood stain' }).get('stain')!.sum).toBeGreaterThan(0); // via "outdoor wood stain"
  });

  it('reads the shortest past queries first when a word is in thousands of them', () => {
    const m = new PastQueryEngagement();
    for (let i = 0; i < 3000; i++) m.add(`pizza with extra topping number ${i}`, `long-${i}`, 1);
    m.add('pizza', 'plain', 1);
    m.add('pizza tonight', 'tonight', 1);
    const a = m.affinity('pizza');
    expect(a.get('plain')!.max).toBeCloseTo(1, 6);
    expect(a.get('tonight')!.max).toBeGreaterThan(a.get('long-0')?.max ?? 0);
    expect(a.size).toBeLessThanOrEqual(200); // the 200 most similar past queries, one coupon each
    // A write after a lookup is seen by the next one.
    m.add('pizza', 'second', 2);
    expect(m.affinity('pizza').get('second')!.max).toBeCloseTo(2, 6);
  });

  it('knows nothing of queries without a shared word, or without engagement', () => {
    const m = memory();
    expect(m.affinity('pizza').size).toBe(0);
    expect(m.affinity('nothing').size).toBe(0);
    expect(m.affinity('').size).toBe(0);
    expect(m.size).toBe(3);
  });
});
