/** A point on Earth in degrees (WGS84). */
export interface GeoPoint {
  lat: number;
  lon: number;
}

export const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance in kilometres (haversine). */
export function haversineKm(a: GeoPoint, b: GeoPoint): number {
  const toRad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * toRad;
  const dLon = (b.lon - a.lon) * toRad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * toRad) * Math.cos(b.lat * toRad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Distance from `origin` to the nearest of `points`, or undefined when there are none. */
export function nearestDistanceKm(origin: GeoPoint, points: readonly GeoPoint[]): number | undefined {
  let best: number | undefined;
  for (const p of points) {
    const d = haversineKm(origin, p);
    if (best === undefined || d < best) best = d;
  }
  return best;
}
