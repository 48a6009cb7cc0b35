/**
 * Merchandising rules through the API on the sample catalogue: pins land at their positions,
 * hidden coupons never appear, boosts lift what they match, windows open and close on a test
 * clock, a pin never serves an expired coupon, and a second API process sharing PostgreSQL sees
 * a new rule within a second.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Coupon, isServable } from '../../src/domain/coupon.ts';
import { PostgresDefinitionStore } from '../../src/definitions/postgres-definition-store.ts';
import { PostgresEventStore } from '../../src/events/postgres-event-store.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { api, POSTGRES_URL, startServer, type TestServer, testEnv } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

interface Response {
  total: number;
  results: Array<{ id: string; coupon: Coupon; boosted_by?: string[]; explain?: { pinned?: { position: number; rule: string } } }>;
  explain?: { stages: Record<string, { note: string }> };
}

const HOUR = 3_600_000;

describe('merchandising rules', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let server: TestServer;
  let now = new Date();
  const catalogue = generateCatalogue({ size: 600, seed: 21, anchor: now });
  const clock = () => now;

  beforeAll(async () => {
    dir = await tempDir('rules-');
    server = await startServer(testEnv(dir.dir), { clock });
    await server.engine.upsertCoupons(catalogue);
    await server.engine.waitForIndexing();
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  const search = async (params: string): Promise<Response> => {
    const res = await api(server.url, 'GET', `/v1/search?${params}`);
    expect(res.status, res.text).toBe(200);
    return res.json as Response;
  };
  const create = async (rule: unknown): Promise<string> => {
    const res = await api(server.url, 'POST', '/v1/rules', rule);
    expect(res.status, res.text).toBe(201);
    return res.json.id as string;
  };
  const remove = (id: string) => api(server.url, 'DELETE', `/v1/rules/${id}`);

  it('a pin puts its coupon at the stated position, and explain names the rule', async () => {
    const plain = await search('q=pizza&limit=20');
    const chosen = plain.results[12]!.id;
    const id = await create({
      condition: { query: { contains: 'pizza' } },
      consequence: { pin: [{ id: chosen, position: 2 }] },
      description: 'Friday pizza campaign',
    });
    const res = await search('q=cheap+pizza&limit=10&explain=true');
    expect(res.results[1]!.id).toBe(chosen);
    expect(res.results.filter((r) => r.id === chosen)).toHaveLength(1);
    expect(res.results[1]!.explain!.pinned).toEqual({ position: 2, rule: id });
    expect(res.explain!.stages.rank!.note).toContain(`rules fired: ${id} (Friday pizza campaign)`);
    // Word-bounded: "pizzeria" does not contain the phrase "pizza".
    expect((await search('q=pizzeria&limit=10&explain=true')).explain!.stages.rank!.note).not.toContain('rules fired');
    expect((await remove(id)).status).toBe(204);
    expect((await search('q=cheap+pizza&limit=10')).results[1]?.id).not.toBe(chosen);
  });

  it('a hidden coupon never appears, on any page', async () => {
    const plain = await search('q=sushi&limit=3');
    const hidden = plain.results.map((r) => r.id).slice(0, 2);
    const id = await create({ condition: { query: { exact: 'Sushi' } }, consequence: { hide: hidden } });
    for (let offset = 0; offset < 200; offset += 100) {
      const res = await search(`q=sushi&limit=100&offset=${offset}`);
      for (const h of hidden) expect(res.results.map((r) => r.id)).not.toContain(h);
    }
    expect((await search('q=sushi+rolls&limit=3&explain=true')).explain!.stages.rank!.note).not.toContain('rules fired'); // exact means exact
    await remove(id);
  });

  it('a boost lifts matching coupons by weight × the spread of the rank scores; a negative weight buries', async () => {
    const id = await create({ condition: { query: { any: true } }, consequence: { boost: [{ filter: { discount_kind: ['bogo'] }, weight: 2 }] } });
    const res = await search('q=dinner&limit=5');
    expect(res.results.length).toBe(5);
    for (const r of res.results) {
      expect(r.coupon.discount.kind).toBe('bogo');
      expect(r.boosted_by).toContain(`rule ${id}`);
    }
    await api(server.url, 'PUT', `/v1/rules/${id}`, {
      condition: { query: { any: true } },
      consequence: { boost: [{ filter: { discount_kind: ['bogo'] }, weight: -2 }] },
    });
    const buried = await search('q=dinner&limit=20');
    const kinds = buried.results.map((r) => r.coupon.discount.kind);
    const firstBogo = kinds.indexOf('bogo');
    expect(firstBogo === -1 || kinds.slice(firstBogo).every((k) => k === 'bogo')).toBe(true);
    await remove(id);
  });

  it('an expired rule does nothing; one whose window starts later starts on time (test clock)', async () => {
    const top = (await search('q=massage&limit=1')).results[0]!.id;
    const expired = await create({
      condition: { query: { contains: 'massage' } },
      consequence: { hide: [top] },
      active_from: new Date(now.getTime() - 2 * HOUR).toISOString(),
      active_until: new Date(now.getTime() - HOUR).toISOString(),
    });
    const later = await create({
      condition: { query: { contains: 'massage' } },
      consequence: { hide: [top] },
      active_from: new Date(now.getTime() + HOUR).toISOString(),
    });
    expect((await search('q=massage&limit=10')).results.map((r) => r.id)).toContain(top);
    const saved = now;
    now = new Date(saved.getTime() + HOUR + 1000);
    try {
      expect((await search('q=massage&limit=10')).results.map((r) => r.id)).not.toContain(top);
    } finally {
      now = saved;
    }
    await remove(expired);
    await remove(later);
  });

  it('a pin of an expired coupon, or of one outside the search filter, is ignored and reported', async () => {
    const stale = catalogue.find((c) => !isServable(c, now) && c.status === 'active' && /pizza/i.test(c.title))!;
    const spa = catalogue.find((c) => isServable(c, now) && c.categories.includes('spa'))!;
    const id = await create({
      condition: { query: { any: true } },
      consequence: {
        pin: [
          { id: stale.id, position: 1 },
          { id: spa.id, position: 2 },
        ],
      },
    });
    const res = await search('q=pizza&category=food&limit=10&explain=true');
    expect(res.results.map((r) => r.id)).not.toContain(stale.id);
    expect(res.results.map((r) => r.id)).not.toContain(spa.id);
    expect(res.explain!.stages.rank!.note).toContain(`pin of ${stale.id} (rule ${id}) ignored: not active or not valid now`);
    expect(res.explain!.stages.rank!.note).toContain(`pin of ${spa.id} (rule ${id}) ignored: outside the search filter`);
    expect((await search('q=pizza&limit=10')).results[1]!.id).toBe(spa.id); // without the filter the spa pin holds
    await remove(id);
  });

  it('a filter context limits a rule to searches inside it', async () => {
    const top = (await search('q=coffee&category=food&limit=1')).results[0]!.id;
    const id = await create({ condition: { query: { any: true }, filter: { category: ['food'] } }, consequence: { hide: [top] } });
    expect((await search('q=coffee&category=food&limit=20')).results.map((r) => r.id)).not.toContain(top);
    expect((await search('q=coffee&limit=20')).results.map((r) => r.id)).toContain(top);
    await remove(id);
  });

  it('validates rules with field-named errors, and supports list, get, replace and delete', async () => {
    const bad: Array<[unknown, string]> = [
      [{ consequence: { hide: ['x'] } }, 'condition'],
      [{ condition: { query: { exact: 'x' } }, consequence: {} }, 'consequence'],
      [{ condition: { query: { sometimes: 'x' } }, consequence: { hide: ['x'] } }, 'condition.query'],
      [{ condition: { query: { any: true } }, consequence: { pin: [{ id: 'x', position: 0 }] } }, 'consequence.pin.0.position'],
      [
        { condition: { query: { any: true } }, consequence: { hide: ['x'] }, active_from: '2026-12-05T00:00:00Z', active_until: '2026-12-04T00:00:00Z' },
        'active_until',
      ],
      [{ condition: { query: { any: true }, filter: { colour: ['red'] } }, consequence: { hide: ['x'] } }, 'condition.filter'],
    ];
    for (const [body, field] of bad) {
      const res = await api(server.url, 'POST', '/v1/rules', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.details.map((d: { field: string }) => d.field).join(' '), JSON.stringify(body)).toContain(field);
    }
    const id = await create({ condition: { query: { exact: 'tacos' } }, consequence: { hide: ['nothing'] }, description: 'first' });
    expect((await api(server.url, 'GET', `/v1/rules/${id}`)).json).toMatchObject({ id, description: 'first' });
    const replaced = await api(server.url, 'PUT', `/v1/rules/${id}`, {
      condition: { query: { exact: 'tacos' } },
      consequence: { hide: ['nothing'] },
      description: 'second',
    });
    expect(replaced.json).toMatchObject({ id, description: 'second' });
    expect((await api(server.url, 'GET', '/v1/rules')).json.rules.map((r: { id: string }) => r.id)).toContain(id);
    expect((await remove(id)).status).toBe(204);
    expect((await remove(id)).status).toBe(404);
    expect((await api(server.url, 'GET', `/v1/rules/${id}`)).status).toBe(404);
  });
});

it('two API processes sharing PostgreSQL: a rule written through one is in force in the other within 1 s', async () => {
  const { dir, cleanup } = await tempDir('rules-pg-');
  const prefix = `t${randomUUID().replace(/-/g, '').slice(0, 12)}_`;
  const env = (name: string) => testEnv(path.join(dir, name), { DATABASE_URL: POSTGRES_URL, EVENTS_TABLE_PREFIX: prefix, DEFINITIONS_REFRESH_MS: '200' });
  const coupons = generateCatalogue({ size: 150, seed: 4 });
  // Started together, as a deployment starts them: the schema is created once, under a lock.
  const [a, b] = await Promise.all([startServer(env('a')), startServer(env('b'))]);
  try {
    for (const s of [a, b]) {
      await s.engine.upsertCoupons(coupons);
      await s.engine.waitForIndexing();
    }
    const top = (await api(b.url, 'GET', '/v1/search?q=pizza&limit=1')).json.results[0].id as string;
    const created = await api(a.url, 'POST', '/v1/rules', { condition: { query: { contains: 'pizza' } }, consequence: { hide: [top] } });
    expect(created.status).toBe(201);
    const written = Date.now();
    let seenAfter = Number.POSITIVE_INFINITY;
    while (Date.now() - written < 3000) {
      const ids = (await api(b.url, 'GET', '/v1/search?q=pizza&limit=10')).json.results.map((r: { id: string }) => r.id);
      if (!ids.includes(top)) {
        seenAfter = Date.now() - written;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(seenAfter).toBeLessThan(1000);
  } finally {
    await a.close();
    await b.close();
    const store = new PostgresDefinitionStore({ url: POSTGRES_URL, tablePrefix: prefix });
    await store.drop();
    await store.close();
    const events = new PostgresEventStore({ url: POSTGRES_URL, tablePrefix: prefix });
    await events.drop();
    await events.close();
    await cleanup();
  }
}, 120_000);
