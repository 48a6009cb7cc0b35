import type { GeoPoint } from '../../domain/geo.ts';

/**
 * Geohash cells let LanceDB prefilter a radius query with an indexable list lookup
 * (`array_has_any(geo_cells, [...])`): every location stores its cells at a few precisions, a query
 * covers its circle's bounding box with cells at one precision. The cover is a superset of the
 * circle; the exact distance check runs afterwards (see `filter-sql.ts`).
 */
const BASE32 = '0123456789bcdefghjkmnpqrstuvwxyz';
export const STORED_PRECISIONS = [2, 3, 4, 5] as const;
const MAX_COVER_CELLS = 32;

export function encodeGeohash(p: GeoPoint, precision: number): string {
  let latLo = -90,
    latHi = 90,
    lonLo = -180,
    lonHi = 180;
  let hash = '';
  let bits = 0,
    ch = 0,
    even = true;
  while (hash.length < precision) {
    if (even) {
      const mid = (lonLo + lonHi) / 2;
      if (p.lon >= mid) {
        ch = (ch << 1) | 1;
        lonLo = mid;
      } else {
        ch <<= 1;
        lonHi = mid;
      }
    } else {
      const mid = (latLo + latHi) / 2;
      if (p.lat >= mid) {
        ch = (ch << 1) | 1;
        latLo = mid;
      } else {
        ch <<= 1;
        latHi = mid;
      }
    }
    even = !even;
    if (++bits === 5) {
      hash += BASE32[ch];
      bits = 0;
      ch = 0;
    }
  }
  return hash;
}

/** The cells stored for a coupon's locations. */
export function cellsForLocations(points: readonly GeoPoint[]): string[] {
  const cells = new Set<string>();
  for (const p of points) for (const precision of STORED_PRECISIONS) cells.add(encodeGeohash(p, precision));
  return [...cells];
}

function cellSize(precision: number): { latDeg: number; lonDeg: number } {
  const bits = 5 * precision;
  return { latDeg: 180 / 2 ** Math.floor(bits / 2), lonDeg: 360 / 2 ** Math.ceil(bits / 2) };
}

/**
 * Cells (at the finest stored precision that needs at most 32) whose union contains the circle,
 * or undefined when no small cover exists (huge radius, or a box crossing a pole or the antimeridian).
 */
export function coverCircle(center: GeoPoint, radiusKm: number): string[] | undefined {
  const dLat = radiusKm / 110.574;
  const cosLat = Math.cos((center.lat * Math.PI) / 180);
  // Slightly widened so floating-point error at the box edge never drops a cell.
  const latMin = center.lat - dLat * 1.01,
    latMax = center.lat + dLat * 1.01;
  if (latMin <= -90 || latMax >= 90 || cosLat < 1e-6) return undefined;
  const dLon = (radiusKm / (111.32 * cosLat)) * 1.01;
  const lonMin = center.lon - dLon,
    lonMax = center.lon + dLon;
  if (lonMin <= -180 || lonMax >= 180) return undefined;
  for (const precision of [...STORED_PRECISIONS].reverse()) {
    const { latDeg, lonDeg } = cellSize(precision);
    const rows = Math.floor(latMax / latDeg) - Math.floor(latMin / latDeg) + 1;
    const cols = Math.floor(lonMax / lonDeg) - Math.floor(lonMin / lonDeg) + 1;
    if (rows * cols > MAX_COVER_CELLS) continue;
    const cells = new Set<string>();
    for (let r = 0; r < rows; r++) {
      const lat = Math.min(latMax, (Math.floor(latMin / latDeg) + r + 0.5) * latDeg);
      for (let c = 0; c < cols; c++) {
        const lon = Math.min(lonMax, (Math.floor(lonMin / lonDeg) + c + 0.5) * lonDeg);
        cells.add(encodeGeohash({ lat: Math.max(latMin, lat), lon: Math.max(lonMin, lon) }, precision));
      }
    }
    return [...cells];
  }
  return undefined;
}
