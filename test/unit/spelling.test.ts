import { describe, expect, it } from 'vitest';
import { editDistance, SpellingCorrector } from '../../src/text/spelling.ts';

const corrector = (texts: string[], words: string[] = []) => {
  const s = new SpellingCorrector((w) => words.includes(w));
  for (const t of texts) s.addText(t);
  return s;
};

describe('typo tolerance', () => {
  const catalogue = corrector(
    ['Large pepperoni pizza', 'Margherita pizza for two', 'Sushi platter for two', 'Couples massage', 'Outdoor furniture set', 'Sixty-minute Swedish massage'],
    ['price'],
  );

  it('corrects unknown words within one edit (4–7 letters) or two (8+), a swap counting once', () => {
    expect(catalogue.correct('pizzza').query).toBe('pizza');
    expect(catalogue.correct('sushii').query).toBe('sushi');
    expect(catalogue.correct('masage').query).toBe('massage');
    expect(catalogue.correct('mrgherita').query).toBe('margherita'); // two edits, 9 letters
    expect(catalogue.correct('pepperino pizza').query).toBe('pepperoni pizza'); // a transposition
    expect(catalogue.correct('pzzzza').query).toBe('pzzzza'); // two edits away at 6 letters: left alone
  });

  it('leaves known, short, numeric and dictionary words alone, and says what it changed', () => {
    expect(catalogue.correct('half price pizza')).toEqual({ query: 'half price pizza', changes: [] }); // "price" is a word, not a typo of anything
    expect(catalogue.correct('spa 2x4').changes).toEqual([]);
    expect(catalogue.correct('cheap  piza tonight')).toEqual({ query: 'cheap  pizza tonight', changes: [{ from: 'piza', to: 'pizza', why: 'edit' }] });
  });

  it('splits two known words run together', () => {
    expect(catalogue.correct('outdoorfurniture')).toEqual({
      query: 'outdoor furniture',
      changes: [{ from: 'outdoorfurniture', to: 'outdoor furniture', why: 'split' }],
    });
  });

  it('ranks candidates at the same distance by how many coupons use them', () => {
    const s = corrector(['cart', 'card', 'card', 'card']);
    expect(s.correct('carx').query).toBe('card');
  });

  it('absorbs another vocabulary (the one a rebuild replaces) without losing its words', () => {
    const rebuilt = corrector(['Oil change']);
    rebuilt.absorb(corrector(['Zanzibella gelato']));
    expect(rebuilt.correct('zanzibela chnage').query).toBe('zanzibella change');
  });

  it('measures optimal string alignment distance with an early exit', () => {
    expect(editDistance('toliet', 'toilet', 2)).toBe(1);
    expect(editDistance('kitten', 'sitting', 3)).toBe(3);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
  });
});
