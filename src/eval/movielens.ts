import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Interaction } from '../recommend/interactions.ts';

/** MovieLens 100K as read from its folder (u.data, u.item, u.user); never copied anywhere. */
export interface MovieLens {
  interactions: Interaction[];
  numUsers: number;
  numItems: number;
  titles: string[];
  /** 19 genre flags per item. */
  genres: number[][];
  /** Each item's release date (ms), where u.item gives one. */
  releaseDates: Array<number | undefined>;
  /** One-hot age band (7), gender (2), occupation (21) per user. */
  userFeatures: number[][];
}

const AGE_BANDS = [18, 25, 35, 45, 50, 56];

export async function loadMovieLens(dir: string): Promise<MovieLens> {
  const read = (f: string) =>
    readFile(path.join(dir, f), 'latin1').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot read ${path.join(dir, f)} (${error.code}): pass --data <folder of MovieLens 100K>`);
    });
  const [data, items, users, occupations] = await Promise.all([read('u.data'), read('u.item'), read('u.user'), read('u.occupation')]);
  const interactions = data
    .trim()
    .split('\n')
    .map((line) => {
      const [u, i, , ts] = line.split('\t').map(Number);
      return { user: u! - 1, item: i! - 1, ts: ts! * 1000 }; // seconds → ms, as every Interaction
    });
  const itemRows = items
    .trim()
    .split('\n')
    .map((l) => l.split('|'));
  const occ = occupations
    .trim()
    .split('\n')
    .map((s) => s.trim());
  const userFeatures = users
    .trim()
    .split('\n')
    .map((l) => {
      const [, age, gender, job] = l.split('|');
      const f = new Array(AGE_BANDS.length + 1 + 2 + occ.length).fill(0);
      f[AGE_BANDS.filter((b) => Number(age) >= b).length] = 1;
      f[AGE_BANDS.length + 1 + (gender === 'F' ? 1 : 0)] = 1;
      f[AGE_BANDS.length + 3 + Math.max(0, occ.indexOf(job!))] = 1;
      return f;
    });
  return {
    interactions,
    numUsers: userFeatures.length,
    numItems: itemRows.length,
    titles: itemRows.map((r) => r[1]!),
    genres: itemRows.map((r) => r.slice(5, 24).map(Number)),
    // "01-Jan-1995"; one film has none.
    releaseDates: itemRows.map((r) => Date.parse(`${r[2]} UTC`)).map((t) => (Number.isNaN(t) ? undefined : t)),
    userFeatures,
  };
}
