import type { EventType } from '../domain/event.ts';
import { seededRandom, shuffle } from '../util/random.ts';

/** Implicit feedback: user u interacted with item i at time ts (ms). Users and items are dense 0-based indexes. */
export interface Interaction {
  user: number;
  item: number;
  ts: number;
  /** What the user did (a click when absent); the sequence tower reads it. */
  kind?: EventType;
}

export interface EvalSplit {
  numUsers: number;
  numItems: number;
  /** What models learn from. */
  train: Interaction[];
  /** Each user's second-latest warm interaction (early stopping). */
  validation: Interaction[];
  /** Each user's latest warm interaction. */
  test: Interaction[];
  /** Items whose every interaction is hidden from training (the cold-start probe). */
  coldItems: Set<number>;
  /** Each user's latest interaction with a cold item, where there is one. */
  coldTest: Interaction[];
  /** Other items hidden from training the same way, to choose cold-start settings on (never the cold test items). */
  coldValidationItems: Set<number>;
  /** Each user's latest interaction with a cold validation item, where there is one. */
  coldValidation: Interaction[];
  /** All items each user interacted with (train + held out), for negative sampling. */
  seen: Array<Set<number>>;
}

/**
 * The standard leave-one-out protocol (He et al. 2017): each user's latest interaction is the test
 * item, the one before it the validation item, the rest is training. Before that, `coldShare` of the
 * items (seeded) are made cold: all their interactions leave training; `coldValidationShare` more
 * leave it the same way, for choosing cold-start settings.
 */
export function leaveOneOut(
  all: readonly Interaction[],
  numUsers: number,
  numItems: number,
  options: { coldShare?: number; coldValidationShare?: number; seed?: number } = {},
): EvalSplit {
  const rand = seededRandom(options.seed ?? 2017);
  const coldItems = new Set<number>();
  const coldCount = Math.round(numItems * (options.coldShare ?? 0.1));
  const order = shuffle(
    rand,
    Array.from({ length: numItems }, (_, i) => i),
  );
  for (const i of order.slice(0, coldCount)) coldItems.add(i);
  // Drawn after the cold test items from the same order, so adding them leaves those unchanged.
  const coldValidationItems = new Set(order.slice(coldCount, coldCount + Math.round(numItems * (options.coldValidationShare ?? 0))));

  const byUser: Interaction[][] = Array.from({ length: numUsers }, () => []);
  for (const x of all) byUser[x.user]!.push(x);
  const seen = byUser.map((xs) => new Set(xs.map((x) => x.item)));
  const train: Interaction[] = [],
    validation: Interaction[] = [],
    test: Interaction[] = [],
    coldTest: Interaction[] = [],
    coldValidation: Interaction[] = [];
  for (const xs of byUser) {
    // Latest last; ties by item id so the split never depends on file order.
    xs.sort((a, b) => a.ts - b.ts || a.item - b.item);
    const warm = xs.filter((x) => !coldItems.has(x.item) && !coldValidationItems.has(x.item));
    const cold = xs.filter((x) => coldItems.has(x.item));
    const coldVal = xs.filter((x) => coldValidationItems.has(x.item));
    if (cold.length) coldTest.push(cold.at(-1)!);
    if (coldVal.length) coldValidation.push(coldVal.at(-1)!);
    if (warm.length >= 3) {
      test.push(warm.at(-1)!);
      validation.push(warm.at(-2)!);
      train.push(...warm.slice(0, -2));
    } else train.push(...warm);
  }
  return { numUsers, numItems, train, validation, test, coldItems, coldTest, coldValidationItems, coldValidation, seen };
}

/** Items whose interactions stay in training: neither cold test nor cold validation items. */
export function warmItems(split: Pick<EvalSplit, 'numItems' | 'coldItems' | 'coldValidationItems'>): number[] {
  return Array.from({ length: split.numItems }, (_, i) => i).filter((i) => !split.coldItems.has(i) && !split.coldValidationItems.has(i));
}

/**
 * The held-out interactions whose user left at least `count` items of `pool` untouched, each with
 * `count` of them as negatives (`sampleNegatives`): how the cold items are ranked among themselves.
 */
export function withNegativesFrom(
  heldOut: readonly Interaction[],
  seen: ReadonlyArray<Set<number>>,
  pool: readonly number[],
  count: number,
  seed: number,
): { heldOut: Interaction[]; negatives: number[][] } {
  const usable = heldOut.filter((x) => pool.filter((i) => !seen[x.user]!.has(i)).length >= count);
  return { heldOut: usable, negatives: sampleNegatives(usable, seen, pool, count, seed) };
}

/**
 * For each held-out interaction, 99 items the user never interacted with, drawn (seeded) from
 * `pool`; the same negatives are given to every system.
 */
export function sampleNegatives(heldOut: readonly Interaction[], seen: ReadonlyArray<Set<number>>, pool: readonly number[], count = 99, seed = 99): number[][] {
  const rand = seededRandom(seed);
  return heldOut.map((x) => {
    const out = new Set<number>();
    const available = pool.filter((i) => !seen[x.user]!.has(i));
    if (available.length <= count) return available;
    while (out.size < count) out.add(available[Math.floor(rand() * available.length)]!);
    return [...out];
  });
}
