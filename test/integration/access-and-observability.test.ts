/**
 * API keys with scopes (401 / 403, rotation without restart), rate limits per address and per key
 * (in process and in Redis), request ids, Prometheus metrics, and the OpenAPI document: every
 * route's real responses validate against /openapi.json.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import Router from '@koa/router';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, revokeKey } from '../../src/access/api-keys.ts';
import { createApp } from '../../src/api/app.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { api, REDIS_URL, startServer, testEnv, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

let dir: string;
let cleanup: () => Promise<void>;
let keysFile: string;
let server: TestServer;
const keys: Record<string, string> = {};
const coupons = generateCatalogue({ size: 60, seed: 12 });
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('access-'));
  keysFile = path.join(dir, 'keys.json');
  keys.search = createKey(keysFile, 'widgets', ['search', 'events']).key;
  keys.write = createKey(keysFile, 'catalogue sync', ['write']).key;
  keys.all = createKey(keysFile, 'admin', ['search', 'events', 'write']).key;
  keys.metrics = createKey(keysFile, 'scraper', ['metrics']).key;
  server = await startServer(testEnv(path.join(dir, 'data'), { API_KEYS_FILE: keysFile, RATE_LIMIT_IP_RPS: '0', RATE_LIMIT_KEY_RPS: '0' }));
  const res = await api(server.url, 'POST', '/v1/coupons/batch', { coupons }, bearer(keys.write!));
  expect(res.status).toBe(202);
  await server.engine.queue.drained();
}, 180_000);

afterAll(async () => {
  await server?.close();
  await cleanup?.();
});

describe('API keys and scopes', () => {
  it('refuses writes without a key (401) and with a key lacking the scope (403)', async () => {
    const c = coupons[0]!;
    const none = await api(server.url, 'PUT', `/v1/coupons/${c.id}`, c);
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('unauthorized');
    const wrongScope = await api(server.url, 'PUT', `/v1/coupons/${c.id}`, c, bearer(keys.search!));
    expect(wrongScope.status).toBe(403);
    expect(wrongScope.json.error.message).toContain("'write'");
    const forged = await api(server.url, 'PUT', `/v1/coupons/${c.id}`, c, bearer(keys.write!.slice(0, -2) + 'xx'));
    expect(forged.status).toBe(401);
    for (const [method, route] of [
      ['DELETE', `/v1/coupons/${c.id}`],
      ['POST', '/v1/reindex'],
      ['POST', '/v1/coupons/batch'],
      ['GET', '/v1/jobs/x'],
    ] as const) {
      expect((await api(server.url, method, route, method === 'POST' ? {} : undefined, bearer(keys.search!))).status, `${method} ${route}`).toBe(403);
    }
    const ok = await api(server.url, 'PUT', `/v1/coupons/${c.id}`, { ...c, version: c.version + 1 }, { 'x-api-key': keys.write! });
    expect(ok.status).toBe(202);
  });

  it('lets the search key read and send events, through a header or the api_key parameter', async () => {
    expect((await api(server.url, 'GET', '/v1/search?q=pizza')).status).toBe(401);
    expect((await api(server.url, 'GET', '/v1/search?q=pizza', undefined, bearer(keys.search!))).status).toBe(200);
    expect((await api(server.url, 'GET', `/v1/search?q=pizza&api_key=${keys.search}`)).status).toBe(200);
    const event = { event_id: 'acc-1', user_id: 'u1', coupon_id: coupons[1]!.id, type: 'click', ts: new Date().toISOString() };
    expect((await api(server.url, 'POST', `/v1/events?api_key=${keys.search}`, { events: [event] })).status).toBe(202);
    expect((await api(server.url, 'POST', '/v1/events', { events: [event] }, bearer(keys.write!))).status).toBe(403);
    // Health, docs and widgets need no key; metrics need the 'metrics' scope.
    for (const route of ['/healthz', '/openapi.json', '/widgets/v1.js']) expect((await fetch(server.url + route)).status, route).toBe(200);
    expect((await fetch(server.url + '/metrics')).status).toBe(401);
    expect((await fetch(server.url + '/metrics', { headers: { authorization: `Bearer ${keys.search}` } })).status).toBe(403);
    expect((await fetch(server.url + '/metrics', { headers: { authorization: `Bearer ${keys.metrics}` } })).status).toBe(200);
  });

  it('rotates without a restart: a revoked key stops working, a new one starts', async () => {
    const old = createKey(keysFile, 'rotating', ['search']);
    await new Promise((r) => setTimeout(r, 1100)); // the ring re-reads the file at most once a second
    expect((await api(server.url, 'GET', '/v1/search?q=spa', undefined, bearer(old.key))).status).toBe(200);
    const fresh = createKey(keysFile, 'rotating-2', ['search']);
    revokeKey(keysFile, old.record.id);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await api(server.url, 'GET', '/v1/search?q=spa', undefined, bearer(old.key))).status).toBe(401);
    expect((await api(server.url, 'GET', '/v1/search?q=spa', undefined, bearer(fresh.key))).status).toBe(200);
  });
});

describe('rate limits', () => {
  for (const backend of ['in process', 'Redis'] as const) {
    it(`per address and per key, with Retry-After (${backend})`, async () => {
      const env = testEnv(path.join(dir, `rl-${backend === 'Redis' ? 'r' : 'p'}`), {
        RATE_LIMIT_IP_RPS: '3',
        RATE_LIMIT_KEY_RPS: '1000',
        ...(backend === 'Redis' && { REDIS_URL }),
      });
      const limited = await startServer(env);
      try {
        const statuses: number[] = [];
        let retryAfter = '';
        for (let i = 0; i < 12; i++) {
          const res = await fetch(`${limited.url}/v1/jobs/none`);
          statuses.push(res.status);
          if (res.status === 429) retryAfter = res.headers.get('retry-after') ?? '';
        }
        // Burst 2 × 3: the first six pass (404: no such job), then the bucket is empty.
        expect(statuses.slice(0, 6).every((s) => s === 404)).toBe(true);
        expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
        expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
        expect((await fetch(`${limited.url}/healthz`)).status).toBe(200); // probes are not limited
        const metrics = await (await fetch(`${limited.url}/metrics`)).text();
        expect(metrics).toMatch(/rate_limited_requests_total\{bucket="ip"\} [1-9]/);
      } finally {
        await limited.close();
      }
    });
  }

  it('per key, independently of the address limit', async () => {
    const file = path.join(dir, 'keys-rl.json');
    const { key } = createKey(file, 'tight', ['search']);
    const limited = await startServer(testEnv(path.join(dir, 'rl-key'), { API_KEYS_FILE: file, RATE_LIMIT_IP_RPS: '0', RATE_LIMIT_KEY_RPS: '1' }));
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await fetch(`${limited.url}/v1/coupons/none`, { headers: bearer(key) })).status);
      expect(statuses.slice(0, 2)).toEqual([404, 404]);
      expect(statuses.slice(2)).toEqual([429, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('request ids, deadlines and metrics', () => {
  it("echoes a caller's X-Request-Id, or makes one", async () => {
    const given = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const made = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 503 timeout when a request runs past its deadline, and aborts its signal', async () => {
    const slow = await startServer(testEnv(path.join(dir, 'slow'), { REQUEST_TIMEOUT_MS: '150' }));
    try {
      const app = createApp(slow.engine);
      let aborted: unknown;
      const router = new Router();
      router.get('/v1/slow', async (ctx) => {
        await new Promise((r) => setTimeout(r, 600));
        aborted = (ctx.state.signal as AbortSignal).reason;
        ctx.body = { late: true };
      });
      app.use(router.routes());
      const listener = app.listen(0, '127.0.0.1');
      await new Promise((r) => listener.once('listening', r));
      const port = (listener.address() as { port: number }).port;
      const started = Date.now();
      const res = await fetch(`http://127.0.0.1:${port}/v1/slow`);
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(550);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('timeout');
      expect(res.headers.get('retry-after')).toBe('1');
      await new Promise((r) => setTimeout(r, 600));
      expect((aborted as Error).name).toBe('TimeoutError');
      listener.close();
    } finally {
      await slow.close();
    }
  });

  it('exposes request and stage latency, queue depth, index size and model versions', async () => {
    await api(server.url, 'GET', '/v1/search?q=pizza', undefined, bearer(keys.search!));
    const text = await (await fetch(`${server.url}/metrics`, { headers: bearer(keys.metrics!) })).text();
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/v1\/search",status="200"\} \d+/);
    expect(text).toMatch(/search_stage_duration_seconds_count\{pipeline="search",stage="retrieve"\} \d+/);
    expect(text).toMatch(/queue_jobs\{state="failed"\} \d+/);
    expect(text).toMatch(/index_coupons 60/);
    expect(text).toMatch(/model_info\{kind="embedder",version="[^"]+"\} 1/);
    expect(text).toMatch(/events_accepted_total \d+/);
  });
});

describe('OpenAPI 3.1 document', () => {
  it('describes every route, and every real response validates against it', async () => {
    const doc = (await api(server.url, 'GET', '/openapi.json')).json;
    expect(doc.openapi).toBe('3.1.0');
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ ...doc, $id: 'openapi' });
    // The validator does reject what the document does not allow.
    expect(ajv.compile({ $ref: 'openapi#/components/schemas/SearchResponse' })({ total: 'many' })).toBe(false);
    // Every route the router serves is in the document.
    const documented = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${p}`)));
    const served = [
      'GET /v1/search',
      'POST /v1/search',
      'GET /v1/suggest',
      'GET /v1/synonyms',
      'GET /v1/synonyms/{id}',
      'PUT /v1/synonyms/{id}',
      'DELETE /v1/synonyms/{id}',
      'GET /v1/rules',
      'POST /v1/rules',
      'GET /v1/rules/{id}',
      'PUT /v1/rules/{id}',
      'DELETE /v1/rules/{id}',
      'GET /v1/coupons/{id}/similar',
      'GET /v1/users/{id}/recommendations',
      'GET /v1/coupons/{id}',
      'PUT /v1/coupons/{id}',
      'DELETE /v1/coupons/{id}',
      'POST /v1/coupons/batch',
      'GET /v1/jobs/{id}',
      'POST /v1/reindex',
      'POST /v1/events',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'GET /openapi.json',
      'GET /widgets/v1.js',
      'GET /demo',
    ];
    expect(served.filter((r) => !documented.has(r))).toEqual([]);

    const c = coupons[2]!;
    const all = bearer(keys.all!);
    const calls: Array<[string, string, string, unknown?, Record<string, string>?]> = [
      ['GET /v1/search', 'GET', '/v1/search?q=pizza&explain=true&lat=40.7&lon=-74', undefined, all],
      ['GET /v1/search', 'GET', '/v1/search?q=', undefined, all],
      ['GET /v1/search', 'GET', '/v1/search?q=pizza'],
      ['POST /v1/search', 'POST', '/v1/search', { q: 'spa day', filter: { and: [{ category: ['spa'] }, { discount_pct: { gte: 10 } }] } }, all],
      ['POST /v1/search', 'POST', '/v1/search', { q: 'spa', filter: { nope: 1 } }, all],
      ['GET /v1/search', 'GET', '/v1/search?q=pizzza&sort=discount', undefined, all],
      ['GET /v1/suggest', 'GET', '/v1/suggest?q=piz', undefined, all],
      ['GET /v1/search', 'GET', '/v1/search?q=half+price+pizza+under+%2420&facets=category,merchant,discount,distance&lat=40.7&lon=-74', undefined, all],
      ['POST /v1/search', 'POST', '/v1/search', { q: 'bogo spa tonight', facets: ['category'], understand: true, sort: 'discount' }, all],
      ['PUT /v1/synonyms/{id}', 'PUT', '/v1/synonyms/deals', { synonyms: ['coupon', 'voucher', 'promo code'] }, all],
      ['PUT /v1/synonyms/{id}', 'PUT', '/v1/synonyms/deals', { synonyms: ['alone'] }, all],
      ['PUT /v1/synonyms/{id}', 'PUT', '/v1/synonyms/tv', { root: 'tv', synonyms: ['television'] }, bearer(keys.search!)],
      ['GET /v1/synonyms', 'GET', '/v1/synonyms', undefined, all],
      ['GET /v1/synonyms/{id}', 'GET', '/v1/synonyms/deals', undefined, all],
      ['GET /v1/synonyms/{id}', 'GET', '/v1/synonyms/none', undefined, all],
      ['GET /v1/search', 'GET', '/v1/search?q=voucher', undefined, all],
      ['DELETE /v1/synonyms/{id}', 'DELETE', '/v1/synonyms/deals', undefined, all],
      ['DELETE /v1/synonyms/{id}', 'DELETE', '/v1/synonyms/deals', undefined, all],
      [
        'POST /v1/rules',
        'POST',
        '/v1/rules',
        { condition: { query: { contains: 'pizza' } }, consequence: { pin: [{ id: c.id, position: 1 }] }, description: 'campaign' },
        all,
      ],
      ['POST /v1/rules', 'POST', '/v1/rules', { condition: { query: { contains: 'pizza' } }, consequence: {} }, all],
      [
        'PUT /v1/rules/{id}',
        'PUT',
        '/v1/rules/r-1',
        { condition: { query: { any: true } }, consequence: { hide: ['x'] }, active_until: '2099-01-01T00:00:00Z' },
        all,
      ],
      ['GET /v1/rules', 'GET', '/v1/rules', undefined, all],
      ['GET /v1/rules/{id}', 'GET', '/v1/rules/r-1', undefined, all],
      ['GET /v1/search', 'GET', '/v1/search?q=pizza&explain=true', undefined, all],
      ['DELETE /v1/rules/{id}', 'DELETE', '/v1/rules/r-1', undefined, all],
      ['GET /v1/rules/{id}', 'GET', '/v1/rules/r-1', undefined, all],
      ['GET /v1/suggest', 'GET', '/v1/suggest?q=', undefined, all],
      ['GET /v1/coupons/{id}/similar', 'GET', `/v1/coupons/${c.id}/similar?explain=true`, undefined, all],
      ['GET /v1/coupons/{id}/similar', 'GET', '/v1/coupons/none/similar', undefined, all],
      ['GET /v1/users/{id}/recommendations', 'GET', '/v1/users/u1/recommendations', undefined, all],
      ['GET /v1/coupons/{id}', 'GET', `/v1/coupons/${c.id}`, undefined, all],
      ['GET /v1/coupons/{id}', 'GET', '/v1/coupons/none', undefined, all],
      ['PUT /v1/coupons/{id}', 'PUT', `/v1/coupons/${c.id}?wait=true`, { ...c, version: c.version + 5 }, all],
      ['PUT /v1/coupons/{id}', 'PUT', `/v1/coupons/${c.id}`, { ...c, title: '' }, all],
      ['PUT /v1/coupons/{id}', 'PUT', `/v1/coupons/${c.id}`, c, bearer(keys.search!)],
      ['POST /v1/coupons/batch', 'POST', '/v1/coupons/batch', { coupons: [coupons[3]] }, all],
      ['DELETE /v1/coupons/{id}', 'DELETE', '/v1/coupons/gone-already', undefined, all],
      ['GET /v1/jobs/{id}', 'GET', '/v1/jobs/none', undefined, all],
      [
        'POST /v1/events',
        'POST',
        '/v1/events',
        { events: [{ event_id: 'oa-1', user_id: 'u1', coupon_id: c.id, type: 'save', ts: new Date().toISOString() }] },
        all,
      ],
      ['POST /v1/events', 'POST', '/v1/events', { events: [] }, all],
      ['GET /healthz', 'GET', '/healthz'],
      ['GET /readyz', 'GET', '/readyz'],
    ];
    const failures: string[] = [];
    for (const [op, method, url, body, headers] of calls) {
      const res = await api(server.url, method, url, body, headers);
      const [m, p] = op.split(' ');
      const response = doc.paths[p!][m!.toLowerCase()].responses[String(res.status)];
      if (!response) {
        failures.push(`${method} ${url}: status ${res.status} is not documented`);
        continue;
      }
      const schema = response.content?.['application/json']?.schema;
      if (!schema) continue;
      const validate = ajv.compile({
        $ref: `openapi#/paths/${p!.replace(/~/g, '~0').replace(/\//g, '~1')}/${m!.toLowerCase()}/responses/${res.status}/content/application~1json/schema`,
      });
      if (!validate(res.json)) failures.push(`${method} ${url} → ${res.status}: ${ajv.errorsText(validate.errors)}`);
    }
    expect(failures).toEqual([]);
  });
});
