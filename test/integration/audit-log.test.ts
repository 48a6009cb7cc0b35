/**
 * The audit log of writes: every coupon write, delete, reindex, rule and synonym change made
 * through the API is one JSON line with the key id (never the secret), the request id and what
 * changed; refused writes are not in it; key changes from `npm run keys` are; `npm run audit`
 * queries it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/access/api-keys.ts';
import type { AuditEntry } from '../../src/audit/audit-log.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { spawnTs } from '../support/processes.ts';
import { api, startServer, testEnv, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

let server: TestServer;
let cleanup: () => Promise<void>;
let dir: string;
let keysFile: string;
let auditFile: string;
const writer = { key: '', id: '' };
let reader = '';
const coupons = generateCatalogue({ size: 20, seed: 4 });
const lines = (): AuditEntry[] =>
  readFileSync(auditFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEntry);

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('audit-'));
  keysFile = path.join(dir, 'keys.json');
  auditFile = path.join(dir, 'audit.jsonl');
  const w = createKey(keysFile, 'backend', ['search', 'write']);
  writer.key = w.key;
  writer.id = w.record.id;
  reader = createKey(keysFile, 'widgets', ['search', 'events']).key;
  server = await startServer(testEnv(path.join(dir, 'data'), { API_KEYS_FILE: keysFile, AUDIT_LOG: auditFile }));
}, 120_000);

afterAll(async () => {
  await server?.close();
  await cleanup?.();
});

describe('audit log', () => {
  it('has one line per write, with the key id, the request id and what changed; refused writes are not logged', async () => {
    const auth = { authorization: `Bearer ${writer.key}` };
    const requests: Array<{ method: string; route: string; body?: unknown; expect: Array<[AuditEntry['action'], string]> }> = [
      { method: 'PUT', route: `/v1/coupons/${coupons[0]!.id}`, body: coupons[0], expect: [['coupon.upsert', coupons[0]!.id]] },
      {
        method: 'POST',
        route: '/v1/coupons/batch',
        body: { coupons: coupons.slice(1, 4) },
        expect: coupons.slice(1, 4).map((c) => ['coupon.upsert', c.id] as ['coupon.upsert', string]),
      },
      { method: 'DELETE', route: `/v1/coupons/${coupons[2]!.id}`, expect: [['coupon.delete', coupons[2]!.id]] },
      { method: 'POST', route: '/v1/reindex', body: {}, expect: [['reindex', '*']] },
      {
        method: 'PUT',
        route: '/v1/rules/promo',
        body: { condition: { query: { contains: 'pizza' } }, consequence: { hide: [coupons[1]!.id] } },
        expect: [['rule.put', 'promo']],
      },
      { method: 'DELETE', route: '/v1/rules/promo', expect: [['rule.delete', 'promo']] },
      { method: 'PUT', route: '/v1/synonyms/deals', body: { synonyms: ['deal', 'voucher'] }, expect: [['synonyms.put', 'deals']] },
      { method: 'DELETE', route: '/v1/synonyms/deals', expect: [['synonyms.delete', 'deals']] },
    ];
    const expected: Array<{ action: string; target: string; request_id: string }> = [];
    for (const r of requests) {
      const res = await api(server.url, r.method, r.route, r.body, auth);
      expect(res.status, `${r.method} ${r.route}: ${res.text}`).toBeLessThan(300);
      for (const [action, target] of r.expect) expected.push({ action, target, request_id: res.headers.get('x-request-id')! });
    }
    // Refused: no key, a key without the write scope, invalid input, an unknown rule.
    expect((await api(server.url, 'PUT', `/v1/coupons/${coupons[5]!.id}`, coupons[5])).status).toBe(401);
    expect((await api(server.url, 'PUT', `/v1/coupons/${coupons[5]!.id}`, coupons[5], { authorization: `Bearer ${reader}` })).status).toBe(403);
    expect((await api(server.url, 'PUT', `/v1/coupons/${coupons[5]!.id}`, { title: 1 }, auth)).status).toBe(400);
    expect((await api(server.url, 'DELETE', '/v1/rules/nope', undefined, auth)).status).toBe(404);

    const logged = lines();
    expect(logged.map(({ action, target, request_id }) => ({ action, target, request_id }))).toEqual(expected);
    for (const e of logged) {
      expect(e.key_id).toBe(writer.id);
      expect(e.via).toBe('api');
      expect(Date.parse(e.ts)).not.toBeNaN();
    }
    expect(logged[0]!.change).toMatchObject({ version: coupons[0]!.version, job_id: expect.any(String) });
    expect(logged.find((e) => e.action === 'rule.put')!.change).toMatchObject({ consequence: { hide: [coupons[1]!.id] } });
    // The secret never appears.
    expect(readFileSync(auditFile, 'utf8')).not.toContain(writer.key.slice(-43));
  });

  it('records key changes from `npm run keys`, and `npm run audit` filters by time, action, key and target', async () => {
    const env = { API_KEYS_FILE: keysFile, AUDIT_LOG: auditFile, DATA_DIR: path.join(dir, 'data') };
    const created = spawnTs('src/bin/keys.ts', env, ['create', '--name', 'acme', '--scopes', 'search,events', '--filter', '{"merchant":["m-0001"]}']);
    expect(await created.exited, created.output()).toBe(0);
    const keyLine = lines().at(-1)!;
    expect(keyLine).toMatchObject({
      action: 'key.create',
      via: 'cli',
      change: { name: 'acme', scopes: ['search', 'events'], filter: { merchant: ['m-0001'] } },
    });
    expect(created.output()).toContain(keyLine.target);

    const query = async (...args: string[]) => {
      const run = spawnTs('src/bin/audit.ts', env, args);
      expect(await run.exited, run.output()).toBe(0);
      return run
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as AuditEntry);
    };
    expect((await query('--since', '1h', '--action', 'coupon.upsert')).map((e) => e.target)).toEqual(coupons.slice(0, 4).map((c) => c.id));
    expect(await query('--since', new Date(Date.now() + 60_000).toISOString())).toEqual([]);
    expect((await query('--key', writer.id)).length).toBe(lines().length - 1);
    expect((await query('--target', coupons[2]!.id)).map((e) => e.action)).toEqual(['coupon.upsert', 'coupon.delete']);
    // The compose keys-init step: bootstrap into a fresh volume, the audit log beside the keys (its folder made on the way).
    const volume = path.join(dir, 'fresh-volume', 'keys');
    const boot = spawnTs('src/bin/keys.ts', { API_KEYS_FILE: path.join(volume, 'keys.json'), AUDIT_LOG: path.join(volume, 'audit.jsonl') }, ['bootstrap']);
    expect(await boot.exited, boot.output()).toBe(0);
    const booted = readFileSync(path.join(volume, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    expect(booted.map((e) => [e.action, (e.change as { name: string }).name])).toEqual([
      ['key.create', 'backend'],
      ['key.create', 'widgets'],
      ['key.create', 'metrics'],
      ['key.create', 'analytics'],
    ]);
    const bad = spawnTs('src/bin/audit.ts', env, ['--action', 'coupon.explode']);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--action: one of');
  }, 60_000);
});
