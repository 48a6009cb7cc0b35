/**
 * Bad input at scale: fast-check throws 1,000 generated requests at every endpoint of the real
 * engine — mixes of valid values, wrong types, out-of-range numbers, unknown keys, odd Unicode,
 * huge strings, random JSON. Every answer must be < 500, and every 400 must name the field.
 */
import fc from 'fast-check';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterArb } from '../support/filter-arbitraries.ts';
import { makeCoupon } from '../support/coupons.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { startServer, testEnv, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

const RUNS = 1000;
let server: TestServer;
/** Statuses seen per endpoint, to show the cases reach past validation. */
const seen = new Map<string, Map<number, number>>();
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const t = await tempDir('fuzz-');
  cleanup = t.cleanup;
  server = await startServer(testEnv(path.join(t.dir, 'data'), { LOG_LEVEL: 'silent' }));
  await server.engine.upsertCoupons(generateCatalogue({ size: 80, seed: 3 }));
  await server.engine.queue.drained();
}, 180_000);

afterAll(async () => {
  await server?.close();
  await cleanup?.();
});

/** Strings a careless or hostile client sends. */
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(
    '',
    ' ',
    'NaN',
    'Infinity',
    '-1',
    '1e309',
    '0x10',
    'true',
    'null',
    '[]',
    '{}',
    "' OR 1=1 --",
    '%00',
    '\u0000',
    '../../etc/passwd',
    'a'.repeat(3000),
    '\ud800',
  ),
);
const value = fc.oneof(nasty, fc.anything({ maxDepth: 2 }));
/**
 * Requests are either random, or a valid request with one parameter replaced by a nasty value
 * (or none): about half the cases get past validation and exercise the engine itself.
 */
const mutated = (valid: Array<Record<string, string>>, keys: string[]) =>
  fc.oneof(
    fc
      .tuple(fc.constantFrom(...valid), fc.option(fc.tuple(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 8 })), nasty), { freq: 2 }))
      .map(([base, m]) => new URLSearchParams({ ...base, ...(m && { [m[0]]: m[1] }) }).toString()),
    fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 8 })), nasty, { maxKeys: 5 }).map((d) => new URLSearchParams(d).toString()),
  );
/** A valid body with at most one field replaced by something random. */
const mutatedBody = (valid: fc.Arbitrary<Record<string, unknown>>, fields: string[]) =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(valid, fc.option(fc.tuple(fc.constantFrom(...fields), value), { freq: 2 }))
        .map(([base, m]) => (m ? { ...base, [m[0]]: m[1] } : base)),
    },
    { weight: 1, arbitrary: value.map((v) => (v === undefined ? 'null' : v)) },
  );
const SEARCH_KEYS = [
  'q',
  'category',
  'merchant',
  'min_discount',
  'lat',
  'lon',
  'radius_km',
  'limit',
  'offset',
  'explain',
  'user_id',
  'api_key',
  'typo_tolerance',
  'sort',
  'understand',
  'facets',
];
const searches: Array<Record<string, string>> = [
  { q: 'pizza' },
  { q: 'half price sushi', category: 'food', limit: '5', explain: 'true' },
  { q: 'car service', lat: '40.71', lon: '-74.0', radius_km: '20', user_id: 'u-1' },
  { q: 'spa day', min_discount: '30', offset: '2' },
  { q: 'pizzza', sort: 'distance', lat: '40.71', lon: '-74.0', typo_tolerance: 'false' },
  { q: 'half price pizza under $15 tonight', facets: 'category,merchant,discount' },
  { q: 'bogo sushi near me', lat: '40.71', lon: '-74.0', facets: 'distance', understand: 'false' },
];
const PLACES: Array<Record<string, string>> = [
  {},
  { lat: '40.71', lon: '-74.0' },
  { lat: '40.71', lon: '-74.0', radius_km: '50', category: 'food' },
  { limit: '3', explain: 'true' },
];
const idArb = fc.oneof(
  fc.constantFrom('cpn-000001', 'cpn-000002', 'u-1'),
  nasty.filter((s) => s.length > 0),
);
const encodeId = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return 'x'; // a lone surrogate cannot be put in a URL at all
  }
};

interface Request {
  method: string;
  url: string;
  body?: unknown;
}

async function send(r: Request): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(server.url + r.url, {
    method: r.method,
    headers: r.body === undefined ? {} : { 'content-type': 'application/json' },
    body: r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** No 5xx; a 400 names its field; any error has the one error shape. */
async function check(name: string, r: Request): Promise<void> {
  const res = await send(r);
  const tally = seen.get(name) ?? new Map<number, number>();
  tally.set(res.status, (tally.get(res.status) ?? 0) + 1);
  seen.set(name, tally);
  if (res.status >= 500) throw new Error(`${r.method} ${r.url.slice(0, 200)} → ${res.status} ${res.text.slice(0, 300)}`);
  if (res.status >= 400) {
    expect(res.json?.error?.code, res.text).toBeTypeOf('string');
    if (res.status === 400) {
      const details = res.json.error.details as Array<{ field: string; message: string }>;
      expect(Array.isArray(details) && details.length > 0 && details.every((d) => typeof d.field === 'string' && d.field.length > 0), res.text).toBe(true);
    }
  }
}

const validCoupon = fc.integer({ min: 1, max: 1e9 }).map((version) => ({ ...(makeCoupon('fz-1') as unknown as Record<string, unknown>), version }));
const COUPON_FIELDS = [
  'title',
  'merchant',
  'categories',
  'discount',
  'valid_from',
  'valid_until',
  'locations',
  'original_price',
  'final_price',
  'status',
  'version',
  'sponsored_boost',
  'extra',
];
const couponBody = mutatedBody(validCoupon, COUPON_FIELDS);
const validEvent = fc.record({
  event_id: fc.uuid(),
  user_id: fc.constantFrom('u-1', 'u-2'),
  coupon_id: fc.constantFrom('cpn-000001', 'cpn-000002'),
  type: fc.constantFrom('click', 'impression', 'redeem', 'save', 'dismiss'),
  ts: fc.date({ min: new Date('2020-01-01'), max: new Date(Date.now() - 1000), noInvalidDate: true }).map((d) => d.toISOString()),
  position: fc.nat(50),
  query_id: fc.uuid(),
});

const endpoints: Record<string, fc.Arbitrary<Request>> = {
  'GET /v1/search': mutated(searches, SEARCH_KEYS).map((q) => ({ method: 'GET', url: `/v1/search?${q}` })),
  'POST /v1/search': mutatedBody(
    fc.record(
      {
        q: fc.constantFrom('pizza', 'spa day', 'oil change'),
        filter: filterArb as fc.Arbitrary<unknown>,
        limit: fc.integer({ min: 1, max: 100 }),
        explain: fc.boolean(),
      },
      { requiredKeys: ['q'] },
    ),
    ['q', 'filter', 'limit', 'offset', 'lat', 'lon', 'explain', 'user_id', 'facets', 'understand', 'typo_tolerance', 'sort', 'zz'],
  ).map((body) => ({ method: 'POST', url: '/v1/search', body })),
  'GET /v1/suggest': mutated([{ q: 'piz' }, { q: 'tony', limit: '3' }, { q: 'masag' }], ['q', 'limit', 'api_key']).map((q) => ({
    method: 'GET',
    url: `/v1/suggest?${q}`,
  })),
  'GET /v1/coupons/:id/similar': fc
    .tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom('cpn-000001', 'cpn-000005') }, { weight: 1, arbitrary: idArb }),
      mutated(
        [...PLACES, { mode: 'blend' }, { mode: 'behavior', user_id: 'u-1' }],
        ['mode', 'category', 'lat', 'lon', 'radius_km', 'limit', 'offset', 'explain', 'user_id'],
      ),
    )
    .map(([id, q]) => ({ method: 'GET', url: `/v1/coupons/${encodeId(id)}/similar?${q}` })),
  'GET /v1/users/:id/recommendations': fc
    .tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom('u-1', 'shopper-0001') }, { weight: 1, arbitrary: idArb }),
      mutated([...PLACES, { q: 'sushi', min_discount: '20' }], ['q', 'category', 'min_discount', 'lat', 'lon', 'radius_km', 'limit', 'offset', 'explain']),
    )
    .map(([id, q]) => ({ method: 'GET', url: `/v1/users/${encodeId(id)}/recommendations?${q}` })),
  'PUT /v1/synonyms/:id': fc
    .tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom('deals', 'tv') }, { weight: 1, arbitrary: idArb }),
      mutatedBody(
        fc.oneof(
          fc.constant<Record<string, unknown>>({ synonyms: ['coupon', 'voucher', 'promo code'] }),
          fc.constant<Record<string, unknown>>({ root: 'tv', synonyms: ['television'] }),
        ),
        ['root', 'synonyms', 'zz'],
      ),
    )
    .map(([id, body]) => ({ method: 'PUT', url: `/v1/synonyms/${encodeId(id)}`, body })),
  'GET /v1/synonyms/:id': fc.oneof(fc.constantFrom('deals', 'tv'), idArb).map((id) => ({ method: 'GET', url: `/v1/synonyms/${encodeId(id)}` })),
  'DELETE /v1/synonyms/:id': fc.oneof(fc.constantFrom('deals', 'nothing'), idArb).map((id) => ({ method: 'DELETE', url: `/v1/synonyms/${encodeId(id)}` })),
  'POST /v1/rules': mutatedBody(
    fc.record({
      condition: fc.oneof(
        fc.constant<Record<string, unknown>>({ query: { contains: 'pizza' } }),
        fc.constant<Record<string, unknown>>({ query: { any: true }, filter: { category: ['food'] } }),
      ),
      consequence: fc.oneof(
        fc.constant<Record<string, unknown>>({ pin: [{ id: 'cpn-000001', position: 1 }] }),
        fc.constant<Record<string, unknown>>({ hide: ['cpn-000002'], boost: [{ filter: { discount_kind: ['bogo'] }, weight: 0.5 }] }),
      ),
      active_until: fc.constant('2099-01-01T00:00:00Z'),
    }),
    ['condition', 'consequence', 'active_from', 'active_until', 'description', 'zz'],
  ).map((body) => ({ method: 'POST', url: '/v1/rules', body })),
  'GET /v1/coupons/:id': fc.oneof(fc.constantFrom('cpn-000001', 'cpn-000010'), idArb).map((id) => ({ method: 'GET', url: `/v1/coupons/${encodeId(id)}` })),
  'PUT /v1/coupons/:id': fc
    .tuple(
      fc.oneof({ weight: 6, arbitrary: fc.constant('fz-1') }, { weight: 1, arbitrary: idArb }),
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom('', 'wait=false') }, { weight: 1, arbitrary: mutated([{}], ['wait']) }),
      couponBody,
    )
    .map(([id, q, body]) => ({ method: 'PUT', url: `/v1/coupons/${encodeId(id)}?${q}`, body })),
  'DELETE /v1/coupons/:id': fc
    .tuple(idArb, mutated([{}, { wait: 'false' }], ['wait']))
    .map(([id, q]) => ({ method: 'DELETE', url: `/v1/coupons/${encodeId(id)}?${q}` })),
  'POST /v1/coupons/batch': mutatedBody(
    fc.array(validCoupon, { minLength: 1, maxLength: 3 }).map((coupons) => ({ coupons: coupons.map((c, i) => ({ ...c, id: `fz-b${i}` })) })),
    ['coupons'],
  ).map((body) => ({ method: 'POST', url: '/v1/coupons/batch', body })),
  'GET /v1/jobs/:id': idArb.map((id) => ({ method: 'GET', url: `/v1/jobs/${encodeId(id)}` })),
  'POST /v1/events': mutatedBody(
    fc
      .tuple(
        fc.array(validEvent, { minLength: 1, maxLength: 3 }),
        fc.option(fc.tuple(fc.constantFrom('event_id', 'user_id', 'coupon_id', 'type', 'ts', 'position', 'query_id', 'context', 'zz'), value), { freq: 2 }),
      )
      .map(([events, m]) => ({
        events: m ? [{ ...events[0]!, [m[0]]: m[1] }, ...events.slice(1)] : events,
      })),
    ['events'],
  ).map((body) => ({ method: 'POST', url: '/v1/events', body })),
};

describe(`fuzzing every endpoint (${RUNS} cases each)`, () => {
  for (const [name, arb] of Object.entries(endpoints)) {
    it(`${name}: no 5xx, and every 400 names the field`, async () => {
      await fc.assert(
        fc.asyncProperty(arb, (r) => check(name, r)),
        { numRuns: RUNS, seed: 2026 },
      );
      const tally = seen.get(name)!;
      // Cases that got past validation (answered, or not found): the fuzzing reaches the engine.
      const passed = [...tally].filter(([s]) => s !== 400).reduce((n, [, c]) => n + c, 0);
      if (process.env.SHOW_FUZZ) console.log(name, JSON.stringify(Object.fromEntries(tally)));
      expect(passed, `${name}: only ${passed} of ${RUNS} cases got past validation`).toBeGreaterThanOrEqual(RUNS * 0.2);
    }, 600_000);
  }

  it('the engine is still healthy afterwards', async () => {
    const res = await send({ method: 'GET', url: '/v1/search?q=pizza' });
    expect(res.status).toBe(200);
  });
});
