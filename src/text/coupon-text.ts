import type { Coupon } from '../domain/coupon.ts';

/**
 * How a coupon becomes text. Bump COUPON_TEXT_VERSION whenever either function's output changes:
 * stored vectors made from another version live in another vector space, and start-up refuses to
 * mix them (it asks for `npm run reindex`).
 */
export const COUPON_TEXT_VERSION = 2;

/**
 * Longest text handed to the embedder. USE-lite's cost grows faster than linearly with length
 * (measured on two cores: ~30 chars → 205 texts/s, 75 → 95/s, 150 → 38/s), and the lexical index
 * keeps the full description anyway, so the dense text is the gist: title, categories and tags.
 */
const MAX_EMBED_CHARS = 80;

export function discountPhrase(c: Pick<Coupon, 'discount' | 'currency'>): string {
  const { kind, value } = c.discount;
  switch (kind) {
    case 'percent':
      return `${value}% off`;
    case 'amount':
      return `${formatMoney(value, c.currency)} off`;
    case 'bogo':
      return 'buy one get one free';
    case 'free_item':
      return 'free item';
    case 'free_shipping':
      return 'free shipping';
  }
}

/**
 * Text for the dense embedding: what the coupon is (title, categories, tags), then as much
 * description as fits. The discount and the merchant's name stay out (v2): shared by unrelated
 * coupons ("$20 off", "at ..."), they pulled every vector towards the same few words, and ranking
 * features and lexical search carry them anyway.
 */
export function embeddingText(c: Coupon): string {
  const head = `${c.title}. ${[...c.categories, ...c.tags].join(', ')}.`;
  if (head.length >= MAX_EMBED_CHARS || !c.description) return head.slice(0, MAX_EMBED_CHARS);
  const room = MAX_EMBED_CHARS - head.length - 1;
  const description = c.description.length <= room ? c.description : c.description.slice(0, c.description.lastIndexOf(' ', room) + 1 || room).trim();
  return description ? `${head} ${description}` : head;
}

/** Text for lexical (BM25) search: every field a shopper might type. */
export function lexicalText(c: Coupon): string {
  return [c.title, c.description, c.merchant.name, c.categories.join(' '), c.tags.join(' '), discountPhrase(c)].join(' \n ');
}

function formatMoney(value: number, currency: string): string {
  const symbol: Record<string, string> = { USD: '$', EUR: '€', GBP: '£', JPY: '¥' };
  const s = symbol[currency];
  return s ? `${s}${value}` : `${value} ${currency}`;
}
