import { discountPercent, type Coupon, WEEKDAYS, type Weekday } from '../../domain/coupon.ts';
import { assertNever, conjuncts, type Filter } from '../../domain/filter.ts';
import { EARTH_RADIUS_KM, haversineKm } from '../../domain/geo.ts';

/**
 * What a compiled filter reads, by slot: the coupons, and in typed arrays the fields that every
 * search tests (status and validity, "servable now") or that cost a parse to derive, so the
 * common case never touches the coupon object of a row it rejects or accepts.
 */
export interface FilterColumns {
  coupons: ReadonlyArray<Coupon | undefined>;
  active: Uint8Array;
  validFromMs: Float64Array;
  validUntilMs: Float64Array;
  discountPct: Float64Array;
  /** 1 for a coupon usable online. */
  online: Uint8Array;
  /** The weekdays a coupon is usable on, a bit per day (Monday bit 0). */
  weekdays: Uint8Array;
  /** The latitude and longitude spans of each coupon's locations (+∞ / −∞ without any): a radius rejects most rows on them alone. */
  minLat: Float64Array;
  maxLat: Float64Array;
  minLon: Float64Array;
  maxLon: Float64Array;
  /** Each coupon's locations as (latitude, longitude, cos latitude) triples, for the radius test without touching the coupon. */
  places: Array<Float64Array | undefined>;
  /** Per category, a byte per slot: the category filter of a faceted or category search is one lookup. */
  categories: Map<string, Uint8Array>;
}

/** Empty columns for `capacity` slots over the caller's coupon array. */
export function emptyColumns(coupons: Array<Coupon | undefined>, capacity: number): FilterColumns {
  return {
    coupons,
    places: [],
    active: new Uint8Array(capacity),
    online: new Uint8Array(capacity),
    weekdays: new Uint8Array(capacity),
    validFromMs: new Float64Array(capacity),
    validUntilMs: new Float64Array(capacity),
    discountPct: new Float64Array(capacity),
    minLat: new Float64Array(capacity),
    maxLat: new Float64Array(capacity),
    minLon: new Float64Array(capacity),
    maxLon: new Float64Array(capacity),
    categories: new Map(),
  };
}

/** The same columns with room for `capacity` slots: every typed column copied into a larger one of its kind. */
export function grownColumns(cols: FilterColumns, capacity: number): FilterColumns {
  const grow = <T extends Uint8Array | Float64Array>(column: T): T => {
    const grown = new (column.constructor as new (n: number) => T)(capacity);
    grown.set(column);
    return grown;
  };
  const out = { ...cols, categories: new Map([...cols.categories].map(([category, bytes]) => [category, grow(bytes)])) };
  for (const [key, value] of Object.entries(cols)) if (value instanceof Uint8Array || value instanceof Float64Array) Object.assign(out, { [key]: grow(value) });
  return out;
}

/** Writes one coupon's columns at `slot` (the arrays are the caller's, large enough). */
export function writeColumns(cols: FilterColumns, slot: number, coupon: Coupon): void {
  cols.active[slot] = coupon.status === 'active' ? 1 : 0;
  cols.validFromMs[slot] = Date.parse(coupon.valid_from);
  cols.validUntilMs[slot] = Date.parse(coupon.valid_until);
  cols.discountPct[slot] = discountPercent(coupon);
  cols.online[slot] = coupon.online ? 1 : 0;
  cols.weekdays[slot] = weekdayBits(coupon.usable_weekdays);
  let [latLo, latHi, lonLo, lonHi] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const p of coupon.locations) {
    latLo = Math.min(latLo, p.lat);
    latHi = Math.max(latHi, p.lat);
    lonLo = Math.min(lonLo, p.lon);
    lonHi = Math.max(lonHi, p.lon);
  }
  cols.places[slot] = coupon.locations.length ? Float64Array.from(coupon.locations.flatMap((p) => [p.lat, p.lon, Math.cos(p.lat * TO_RAD)])) : undefined;
  cols.minLat[slot] = latLo;
  cols.maxLat[slot] = latHi;
  cols.minLon[slot] = lonLo;
  cols.maxLon[slot] = lonHi;
  for (const bytes of cols.categories.values()) bytes[slot] = 0;
  for (const category of coupon.categories) {
    let bytes = cols.categories.get(category);
    if (!bytes) cols.categories.set(category, (bytes = new Uint8Array(cols.active.length)));
    bytes[slot] = 1;
  }
}

export type RowPredicate = (slot: number) => boolean;

// Great-circle distance is at least the meridian arc between the latitudes (6371 km × π / 180 per degree, 111.195…).
const KM_PER_DEGREE_LAT = 111.19;
const TO_RAD = Math.PI / 180;

/**
 * The largest longitude difference a point within `radiusKm` of a point at `lat` can have (the
 * bounding box of a circle on the sphere, Matuschek's formula), or undefined when the circle holds
 * a pole or crosses the antimeridian (no longitude bound then). With a margin: it only prunes.
 */
function maxLonDelta(lat: number, lon: number, radiusKm: number): number | undefined {
  const s = Math.sin(radiusKm / EARTH_RADIUS_KM) / Math.cos(lat * TO_RAD);
  if (!(s < 0.99)) return undefined;
  const delta = Math.asin(s) / TO_RAD + 1e-6;
  return lon - delta <= -180 || lon + delta >= 180 ? undefined : delta;
}

/**
 * The filter AST compiled once per search into a closure over a row: the same semantics as
 * `matchesFilter` (the reference, which the serving index's tests hold it to), without parsing a
 * date or building a list per row, because an in-memory scan evaluates it on thousands of rows.
 */
export function compilePredicate(f: Filter | undefined, cols: FilterColumns): RowPredicate {
  if (!f) return () => true;
  const c = cols.coupons as Coupon[];
  if ('and' in f) return compileConjunction(conjuncts(f), cols);
  if ('or' in f) {
    const parts = f.or.map((g) => compilePredicate(g, cols));
    return (s) => {
      for (const p of parts) if (p(s)) return true;
      return false;
    };
  }
  if ('not' in f) {
    const inner = compilePredicate(f.not, cols);
    return (s) => !inner(s);
  }
  if ('id' in f) {
    const ids = new Set(f.id);
    return (s) => ids.has(c[s]!.id);
  }
  if ('category' in f) {
    const columns = f.category.map((x) => cols.categories.get(x)).filter((b): b is Uint8Array => b !== undefined);
    if (columns.length === 1) {
      const [only] = columns as [Uint8Array];
      return (s) => only[s] === 1;
    }
    return (s) => columns.some((b) => b[s] === 1);
  }
  if ('merchant' in f) {
    const set = new Set(f.merchant);
    return (s) => set.has(c[s]!.merchant.id);
  }
  if ('region' in f) {
    const set = new Set(f.region);
    return (s) => c[s]!.region !== undefined && set.has(c[s]!.region!);
  }
  if ('tags_any' in f) return anyOf(f.tags_any, (s) => c[s]!.tags);
  if ('tags_all' in f) {
    const wanted = f.tags_all;
    return (s) => wanted.every((t) => c[s]!.tags.includes(t));
  }
  if ('discount_kind' in f) {
    const set = new Set<string>(f.discount_kind);
    return (s) => set.has(c[s]!.discount.kind);
  }
  if ('status' in f) {
    const active = f.status.includes('active');
    const paused = f.status.includes('paused');
    const { active: col } = cols;
    return (s) => (col[s] === 1 ? active : paused);
  }
  if ('discount_pct' in f) return inRange(f.discount_pct, (s) => cols.discountPct[s]);
  if ('final_price' in f) return inRange(f.final_price, (s) => c[s]!.final_price);
  if ('valid_at' in f) {
    const t = Date.parse(f.valid_at);
    const { validFromMs: from, validUntilMs: until } = cols;
    return (s) => from[s]! <= t && t < until[s]!;
  }
  if ('geo' in f) {
    const centre = f.geo;
    // A location further in latitude (or longitude) than the radius allows cannot be inside it: skip the trigonometry.
    const maxDLat = centre.radius_km / KM_PER_DEGREE_LAT + 1e-6;
    const maxDLon = maxLonDelta(centre.lat, centre.lon, centre.radius_km) ?? Number.POSITIVE_INFINITY;
    const { minLat, maxLat, minLon, maxLon, places } = cols;
    const within = withinRadius(centre);
    return (s) =>
      minLat[s]! <= centre.lat + maxDLat &&
      maxLat[s]! >= centre.lat - maxDLat &&
      minLon[s]! <= centre.lon + maxDLon &&
      maxLon[s]! >= centre.lon - maxDLon &&
      within(places[s]!);
  }
  if ('online' in f) {
    const wanted = f.online ? 1 : 0;
    const { online } = cols;
    return (s) => online[s] === wanted;
  }
  if ('in_store' in f) {
    const inStore = f.in_store;
    return (s) => c[s]!.locations.length > 0 === inStore;
  }
  if ('usable_on' in f) {
    const wanted = weekdayBits(f.usable_on);
    const { weekdays } = cols;
    return (s) => (weekdays[s]! & wanted) !== 0;
  }
  return assertNever(f);
}

/**
 * An AND, flattened, as few closures as a row goes through: a scan evaluates it on every row it
 * looks at, and each closure level costs more than the typed-array reads it wraps. "Active and
 * valid at t", which every search carries, is one test on three columns; it passes most rows, so
 * it goes after the parts that reject most.
 */
function compileConjunction(nodes: readonly Filter[], cols: FilterColumns): RowPredicate {
  const status = nodes.filter((n): n is Extract<Filter, { status: unknown }> => 'status' in n);
  const validAt = nodes.filter((n): n is Extract<Filter, { valid_at: string }> => 'valid_at' in n);
  const rest = nodes.filter((n) => !('status' in n) && !('valid_at' in n)).map((n) => compilePredicate(n, cols));
  if (status.length === 1 && validAt.length === 1 && status[0]!.status.length === 1 && status[0]!.status[0] === 'active') {
    const t = Date.parse(validAt[0]!.valid_at);
    const { active, validFromMs: from, validUntilMs: until } = cols;
    rest.push((s) => active[s] === 1 && from[s]! <= t && t < until[s]!);
  } else {
    rest.push(...[...status, ...validAt].map((n) => compilePredicate(n, cols)));
  }
  const [a, b, c] = rest;
  switch (rest.length) {
    case 0:
      return () => true;
    case 1:
      return a!;
    case 2:
      return (s) => a!(s) && b!(s);
    case 3:
      return (s) => a!(s) && b!(s) && c!(s);
    default:
      return (s) => {
        for (const p of rest) if (!p(s)) return false;
        return true;
      };
  }
}

/**
 * Whether any of a coupon's location triples is within the radius: the haversine term compared
 * with the radius's own (no inverse sine, no square root, the centre's cosine once), the
 * reference `haversineKm` only where rounding could tell the two apart.
 */
function withinRadius(centre: { lat: number; lon: number; radius_km: number }): (places: Float64Array) => boolean {
  const cosCentre = Math.cos(centre.lat * TO_RAD);
  const limit = Math.sin(Math.min(Math.PI / 2, centre.radius_km / (2 * EARTH_RADIUS_KM))) ** 2;
  return (places) => {
    for (let i = 0; i < places.length; i += 3) {
      const a = Math.sin(((places[i]! - centre.lat) * TO_RAD) / 2);
      const b = Math.sin(((places[i + 1]! - centre.lon) * TO_RAD) / 2);
      const h = a * a + cosCentre * places[i + 2]! * b * b;
      if (h < limit * (1 - 1e-9)) return true;
      if (h <= limit * (1 + 1e-9) && haversineKm({ lat: places[i]!, lon: places[i + 1]! }, centre) <= centre.radius_km) return true;
    }
    return false;
  };
}

function weekdayBits(days: readonly Weekday[]): number {
  let bits = 0;
  for (const d of days) bits |= 1 << WEEKDAYS.indexOf(d);
  return bits;
}

function anyOf(values: readonly string[], field: (slot: number) => readonly string[]): RowPredicate {
  const set = new Set(values);
  return (s) => field(s).some((x) => set.has(x));
}

function inRange(range: { gte?: number | undefined; lte?: number | undefined }, value: (slot: number) => number | undefined): RowPredicate {
  const lo = range.gte ?? Number.NEGATIVE_INFINITY;
  const hi = range.lte ?? Number.POSITIVE_INFINITY;
  return (s) => {
    const x = value(s);
    return x !== undefined && x >= lo && x <= hi;
  };
}
