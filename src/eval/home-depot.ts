import { readFile } from 'node:fs/promises';
import { completeCoupon, couponSchema } from '../domain/coupon.ts';
import type { TrainingPair } from '../embed/static-vectors/train-adaptation.ts';

/** One graded judgment: how relevant a product is to a query (1 irrelevant … 3 exact). */
export interface Judgment {
  productId: string;
  title: string;
  query: string;
  relevance: number;
}

/** Parses a file shaped like Home Depot's judgments.csv (id, product_uid, product_title, search_term, relevance). */
export async function loadJudgments(path: string): Promise<Judgment[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${path} (${error.code}): pass a judgments CSV, e.g. --train ../shared/data/home-depot/judgments.csv`);
  });
  const rows = parseCsv(text);
  const header = rows.shift() ?? [];
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${path}: missing column '${name}' (have: ${header.join(', ')})`);
    return i;
  };
  const [uid, title, term, rel] = [col('product_uid'), col('product_title'), col('search_term'), col('relevance')];
  return rows.filter((r) => r.length >= header.length).map((r) => ({ productId: r[uid]!, title: r[title]!, query: r[term]!, relevance: Number(r[rel]) }));
}

/** RFC 4180 CSV: quoted fields, doubled quotes, newlines inside quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [],
    field = '',
    quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Distinct products in first-seen order (the corpus). */
export function corpusOf(judgments: readonly Judgment[]): Array<{ id: string; title: string }> {
  const seen = new Map<string, string>();
  for (const j of judgments) if (!seen.has(j.productId)) seen.set(j.productId, j.title);
  return [...seen].map(([id, title]) => ({ id, title }));
}

/** Judged pairs with relevance ≥ 2.33 (of 3) are positives for the embedder: one per (query, product). */
export function pairsFromJudgments(judgments: readonly Judgment[]): TrainingPair[] {
  return judgments.filter((j) => j.relevance >= 2.33 - 1e-9).map((j) => ({ query: j.query, document: j.title }));
}

/** Products are stored as coupons `p<product_uid>`. */
export function productIdToCoupon(id: string): string {
  return `p${id}`;
}

/** A product as a coupon, so it goes through the same store: only its title carries text. */
export function productCoupon(id: string, title: string) {
  return completeCoupon(
    couponSchema.parse({
      id: productIdToCoupon(id),
      merchant: { id: 'catalogue', name: 'x' },
      title: title.slice(0, 300) || '(untitled)',
      categories: ['product'],
      discount: { kind: 'free_item' },
      valid_from: '2000-01-01T00:00:00Z',
      valid_until: '2100-01-01T00:00:00Z',
      online: true,
      version: 1,
    }),
  );
}
