import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { filterSchema, matchesFilter, type Filter } from '../../src/domain/filter.ts';
import { haversineKm } from '../../src/domain/geo.ts';
import { parseOrThrow } from '../../src/domain/validation.ts';
import type { ValidationError } from '../../src/errors.ts';
import { compileFilter } from '../../src/store/lancedb/filter-sql.ts';
import { coverCircle, encodeGeohash, STORED_PRECISIONS } from '../../src/store/lancedb/geohash.ts';
import { makeCoupon } from '../support/coupons.ts';

describe('filter AST', () => {
  it('names the exact field that fails validation', () => {
    const attempt = (f: unknown) => {
      try {
        parseOrThrow(filterSchema, f, 'filter');
        return 'ok';
      } catch (error) {
        return (error as ValidationError).issues.map((i) => i.field);
      }
    };
    expect(attempt({ and: [{ category: ['a'] }, { geo: { lat: 1, lon: 2, radius_km: -1 } }] })).toEqual(['filter.and.1.geo.radius_km']);
    expect(attempt({ not: { discount_pct: { gte: 50, lte: 10 } } })).toEqual(['filter.not.discount_pct']);
    expect(attempt({ category: ['a'], merchant: ['b'] })).toEqual(['filter']);
    expect(attempt({ or: [{ valid_at: 'yesterday' }] })).toEqual(['filter.or.0.valid_at']);
    expect(attempt({ and: [{ online: true }] })).toBe('ok');
    let deep: unknown = { online: true };
    for (let i = 0; i < 9; i++) deep = { not: deep };
    expect(attempt(deep)).toEqual(['filter.not']); // the first level deeper than 8
  });

  it('evaluates every node kind on a coupon', () => {
    const c = makeCoupon('x', {
      categories: ['food'],
      tags: ['pizza', 'dinner'],
      discount: { kind: 'percent', value: 40 },
      final_price: 12,
      original_price: 20,
      locations: [{ lat: 40.7128, lon: -74.006 }],
      online: false,
      region: 'us-ny',
    });
    const yes: Filter[] = [
      { category: ['food', 'spa'] },
      { tags_all: ['pizza', 'dinner'] },
      { tags_any: ['x', 'pizza'] },
      { discount_pct: { gte: 40, lte: 40 } },
      { final_price: { lte: 12 } },
      { valid_at: '2030-01-01T00:00:00Z' },
      { geo: { lat: 40.73, lon: -73.935, radius_km: 10 } },
      { in_store: true },
      { not: { online: true } },
      { not: { region: ['us-ca'] } },
      { or: [{ merchant: ['nope'] }, { id: ['x'] }] },
    ];
    for (const f of yes) expect(matchesFilter(c, f), JSON.stringify(f)).toBe(true);
    const no: Filter[] = [
      { geo: { lat: 40.73, lon: -73.935, radius_km: 5 } },
      { valid_at: '2019-01-01T00:00:00Z' },
      { and: [{ category: ['food'] }, { status: ['paused'] }] },
    ];
    for (const f of no) expect(matchesFilter(c, f), JSON.stringify(f)).toBe(false);
  });
});

describe('geohash prefilter', () => {
  it('the cover of a circle contains the cell of every point inside it (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -60, max: 60, noNaN: true }),
        fc.double({ min: -170, max: 170, noNaN: true }),
        fc.double({ min: 0.2, max: 300, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
        (lat, lon, radius, r, angle) => {
          const cover = coverCircle({ lat, lon }, radius);
          if (!cover) return true; // no small cover: the store falls back to the exact check alone
          // A point inside the circle, by walking r·radius km along `angle`.
          const d = r * radius * 0.999;
          const p = { lat: lat + (d / 110.574) * Math.cos(angle), lon: lon + (d / (111.32 * Math.cos((lat * Math.PI) / 180))) * Math.sin(angle) };
          if (haversineKm(p, { lat, lon }) > radius) return true;
          const precision = cover[0]!.length;
          expect(STORED_PRECISIONS).toContain(precision);
          return cover.includes(encodeGeohash(p, precision));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('compiles geo to a prefilter that the store re-checks exactly, and NOT geo to no prefilter', () => {
    const geo = compileFilter({ geo: { lat: 40.7, lon: -74, radius_km: 5 } });
    expect(geo.exact).toBe(false);
    expect(geo.sql).toContain('array_has_any(geo_cells');
    expect(compileFilter({ not: { geo: { lat: 40.7, lon: -74, radius_km: 5 } } })).toEqual({ sql: undefined, exact: false });
    expect(compileFilter({ category: ["o'neil"] })).toEqual({ sql: "(array_has_any(categories, ['o''neil']))", exact: true });
  });
});
