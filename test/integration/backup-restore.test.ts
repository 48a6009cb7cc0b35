/**
 * Backup and restore while the API serves: `npm run backup` runs in its own process while
 * coupon writes, events and searches keep arriving over HTTP. Nothing acknowledged before the
 * snapshot started is missing from the restored installation; once the writes acknowledged after
 * it are replayed (idempotent by version and event id), the restored directory serves the same
 * results as the original for 50 queries. `npm run restore` refuses a non-empty directory unless
 * given --force, and a damaged archive.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Coupon } from '../../src/domain/coupon.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { makeCoupon } from '../support/coupons.ts';
import { QdrantEmulator } from '../support/qdrant/emulator.ts';
import { OpenApiValidator } from '../support/qdrant/openapi.ts';
import { spawnTs, waitFor } from '../support/processes.ts';
import pg from 'pg';
import { api, POSTGRES_URL, startServer, testEnv, type TestServer } from '../support/server.ts';
import { SHARED_DIR, tempDir } from '../support/tmp.ts';

const catalogue = generateCatalogue({ size: 300, seed: 8 });
const QUERIES = [...new Set(catalogue.flatMap((c) => c.title.toLowerCase().split(/\s+/)).filter((w) => /^[a-z]{4,}$/.test(w)))].slice(0, 50);

let dir: string;
let cleanup: () => Promise<void>;
let env: Record<string, string>;
let original: TestServer;
let restored: TestServer | undefined;

interface Acked {
  at: number;
  kind: 'coupon' | 'event';
  coupon?: Coupon;
  event?: Record<string, unknown>;
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('backup-'));
  env = testEnv(path.join(dir, 'data'), { AUDIT_LOG: path.join(dir, 'data', 'audit.jsonl') });
  original = await startServer(env);
  const res = await api(original.url, 'POST', '/v1/coupons/batch', { coupons: catalogue });
  expect(res.status).toBe(202);
  await original.engine.waitForIndexing();
}, 180_000);

afterAll(async () => {
  await restored?.close();
  await original?.close();
  await cleanup?.();
});

/** Writes, events and searches over HTTP until stopped; every acknowledged write is recorded with when its answer came. */
function traffic(server: TestServer) {
  const acked: Acked[] = [];
  let stop = false;
  let n = 0;
  const writes = (async () => {
    while (!stop) {
      const i = n++;
      // New coupons and new versions of earlier ones, alternately.
      const coupon =
        i % 3 === 2
          ? { ...catalogue[i % catalogue.length]!, version: catalogue[i % catalogue.length]!.version + 1 + i }
          : makeCoupon(`live-${i}`, { title: `Live deal ${i} pizza`, version: 1 });
      const res = await api(server.url, 'PUT', `/v1/coupons/${coupon.id}`, coupon);
      if (res.status === 202) acked.push({ at: Date.now(), kind: 'coupon', coupon });
      const event = { event_id: `live-e${i}`, user_id: `u${i % 7}`, coupon_id: catalogue[i % 40]!.id, type: 'click', ts: new Date().toISOString() };
      if ((await api(server.url, 'POST', '/v1/events', { events: [event] })).status === 202) acked.push({ at: Date.now(), kind: 'event', event });
    }
  })();
  const searches = (async () => {
    let i = 0;
    while (!stop) expect((await api(server.url, 'GET', `/v1/search?q=${QUERIES[i++ % QUERIES.length]}`)).status).toBe(200);
  })();
  return {
    acked,
    async stop() {
      stop = true;
      await Promise.all([writes, searches]);
    },
  };
}

const results = async (server: TestServer) => {
  const out: string[][] = [];
  for (const q of QUERIES) {
    const res = await api(server.url, 'GET', `/v1/search?q=${q}&limit=10`);
    expect(res.status).toBe(200);
    out.push(res.json.results.map((r: { id: string }) => r.id));
  }
  return out;
};

describe('backup and restore', () => {
  it('round-trips while searches and writes run: nothing acknowledged before the snapshot is missing, and 50 queries answer the same', async () => {
    const load = traffic(original);
    // Traffic before the snapshot: coupons and events acknowledged (a fixed wait was too short on a busy CI machine).
    await waitFor('writes and events acknowledged before the backup', () => load.acked.filter((a) => a.kind === 'event').length > 10, 60_000);
    const archive = path.join(dir, 'backup.tar');
    const backup = spawnTs('src/bin/backup.ts', env, ['--out', archive]);
    expect(await backup.exited, backup.output()).toBe(0);
    const { started_at: startedAt } = JSON.parse(
      backup
        .output()
        .split('\n')
        .find((l) => l.startsWith('{'))!,
    ) as { started_at: string };
    await new Promise((r) => setTimeout(r, 500));
    await load.stop();
    const before = load.acked.filter((a) => a.at < Date.parse(startedAt));
    const after = load.acked.filter((a) => a.at >= Date.parse(startedAt));
    expect(before.length).toBeGreaterThan(10);
    expect(after.length).toBeGreaterThan(0);

    // A non-empty directory is refused without --force.
    const busy = path.join(dir, 'busy');
    await mkdir(busy);
    await writeFile(path.join(busy, 'something'), 'x');
    const refused = spawnTs('src/bin/restore.ts', {}, [archive, '--data-dir', busy]);
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toMatch(/not empty.*--force/);
    const forced = spawnTs('src/bin/restore.ts', {}, [archive, '--data-dir', busy, '--force']);
    expect(await forced.exited, forced.output()).toBe(0);

    const target = path.join(dir, 'restored');
    const restore = spawnTs('src/bin/restore.ts', {}, [archive, '--data-dir', target]);
    expect(await restore.exited, restore.output()).toBe(0);
    expect(restore.output()).toContain(`DATA_DIR=${target}`);
    restored = await startServer({ ...env, DATA_DIR: target, AUDIT_LOG: path.join(target, 'audit.jsonl') });
    await restored.engine.waitForIndexing(); // the journal's pending jobs, replayed

    // Every write acknowledged before the snapshot started is there, at its version or a later one.
    const coupons = before.filter((a) => a.kind === 'coupon').map((a) => a.coupon!);
    const stored = await restored.engine.store.get(coupons.map((c) => c.id));
    for (const c of coupons) expect(stored.get(c.id)?.coupon.version, c.id).toBeGreaterThanOrEqual(c.version);
    const events = (await readFile(path.join(target, 'events.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const eventIds = new Set(events.filter((l) => l.op === 'event').map((l) => l.e.event_id));
    for (const a of before.filter((x) => x.kind === 'event')) expect(eventIds.has(a.event!.event_id), String(a.event!.event_id)).toBe(true);

    // What was acknowledged after it, replayed, makes the two installations the same.
    for (const a of after) {
      if (a.kind === 'coupon') expect((await api(restored.url, 'PUT', `/v1/coupons/${a.coupon!.id}`, a.coupon)).status).toBe(202);
      else expect((await api(restored.url, 'POST', '/v1/events', { events: [a.event] })).status).toBe(202);
    }
    await Promise.all([original.engine.waitForIndexing(), restored.engine.waitForIndexing()]);
    expect(QUERIES.length).toBe(50);
    const [want, got] = [await results(original), await results(restored)];
    expect(want.flat().length).toBeGreaterThan(200);
    expect(got).toEqual(want);
  }, 300_000);

  it('refuses a damaged archive', async () => {
    const archive = path.join(dir, 'backup.tar');
    const damaged = path.join(dir, 'damaged.tar');
    // Flip a run of bytes inside a data file's contents: the tar still reads, the checksum does not match.
    const bytes = Buffer.from(await readFile(archive));
    const at = bytes.indexOf('"op":"event"');
    expect(at).toBeGreaterThan(0);
    for (let i = at; i < at + 8; i++) bytes[i] = bytes[i]! ^ 0x20;
    await writeFile(damaged, bytes);
    const run = spawnTs('src/bin/restore.ts', {}, [damaged, '--data-dir', path.join(dir, 'from-damaged')]);
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/the backup is damaged: data\/events\.jsonl: checksum differs/);
  });
});

describe('backup and restore with the event store in PostgreSQL', () => {
  it("dumps the engine's tables with pg_dump and loads them into another database", async () => {
    const prefix = `bk${Date.now().toString(36)}_`;
    const database = `restore_${prefix.slice(0, -1)}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    const pgEnv = testEnv(path.join(dir, 'pg-data'), { DATABASE_URL: POSTGRES_URL, EVENTS_TABLE_PREFIX: prefix });
    const server = await startServer(pgEnv);
    let copy: TestServer | undefined;
    try {
      await api(server.url, 'POST', '/v1/coupons/batch', { coupons: catalogue.slice(0, 30) });
      await server.engine.waitForIndexing();
      const events = catalogue
        .slice(0, 30)
        .map((c, i) => ({ event_id: `pg-${i}`, user_id: `u${i % 3}`, coupon_id: c.id, type: 'save', ts: new Date().toISOString() }));
      expect((await api(server.url, 'POST', '/v1/events', { events })).status).toBe(202);
      const archive = path.join(dir, 'pg-backup.tar');
      const backup = spawnTs('src/bin/backup.ts', pgEnv, ['--out', archive]);
      expect(await backup.exited, backup.output()).toBe(0);
      expect(backup.output()).toContain(`pg_dump of the ${prefix}* tables`);

      await admin.query(`CREATE DATABASE ${database}`);
      const url = POSTGRES_URL.replace(/\/[^/]*$/, `/${database}`);
      const target = path.join(dir, 'pg-restored');
      const restore = spawnTs('src/bin/restore.ts', {}, [archive, '--data-dir', target, '--database-url', url]);
      expect(await restore.exited, restore.output()).toBe(0);
      expect(restore.output()).toContain(`EVENTS_TABLE_PREFIX=${prefix}`);
      copy = await startServer({ ...pgEnv, DATA_DIR: target, DATABASE_URL: url });
      await Promise.all([server.engine.waitForIndexing(), copy.engine.waitForIndexing()]);
      expect(await copy.engine.events.count()).toBe(30);
      // The same affinity, judged at the same instant (it decays with time).
      const at = new Date();
      const [a, b] = [await server.engine.events.userAffinity('u1', at), await copy.engine.events.userAffinity('u1', at)];
      expect(b.recent).toEqual(a.recent);
      expect(b.categories).toEqual(a.categories);
    } finally {
      await copy?.close();
      await server.close();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      for (const t of (await admin.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE '${prefix}%'`)).rows)
        await admin.query(`DROP TABLE ${t.tablename}`);
      await admin.end();
    }
  }, 180_000);
});

const SPEC = path.join(SHARED_DIR, 'qdrant/openapi-1.19.json');

describe.skipIf(!existsSync(SPEC))('backup and restore on Qdrant (the spec-checking emulator; needs ../shared/qdrant)', () => {
  it("takes collection snapshots through Qdrant's snapshot API and recovers them into another server", async () => {
    const [source, target] = [new QdrantEmulator(new OpenApiValidator(SPEC)), new QdrantEmulator(new OpenApiValidator(SPEC))];
    const [sourceUrl, targetUrl] = [await source.start(), await target.start()];
    const qEnv = testEnv(path.join(dir, 'q-data'), { VECTOR_STORE: 'qdrant', QDRANT_URL: sourceUrl, QDRANT_COLLECTION: 'coupons' });
    const server = await startServer(qEnv);
    let copy: TestServer | undefined;
    try {
      expect((await api(server.url, 'POST', '/v1/coupons/batch', { coupons: catalogue.slice(0, 120) })).status).toBe(202);
      await server.engine.waitForIndexing();
      const archive = path.join(dir, 'q-backup.tar');
      const backup = spawnTs('src/bin/backup.ts', qEnv, ['--out', archive]);
      expect(await backup.exited, backup.output()).toBe(0);
      expect(backup.output()).toMatch(/Qdrant snapshots of coupons_v1, coupons_users/);
      const restore = spawnTs('src/bin/restore.ts', {}, [archive, '--data-dir', path.join(dir, 'q-restored'), '--qdrant-url', targetUrl]);
      expect(await restore.exited, restore.output()).toBe(0);
      copy = await startServer({ ...qEnv, DATA_DIR: path.join(dir, 'q-restored'), QDRANT_URL: targetUrl });
      expect((await copy.engine.store.stats()).count).toBe(120);
      const queries = QUERIES.slice(0, 20);
      for (const q of queries) {
        const [a, b] = [await api(server.url, 'GET', `/v1/search?q=${q}`), await api(copy.url, 'GET', `/v1/search?q=${q}`)];
        expect(
          b.json.results.map((r: { id: string }) => r.id),
          q,
        ).toEqual(a.json.results.map((r: { id: string }) => r.id));
      }
      // Every snapshot call was one the spec declares, with the shapes it declares.
      const calls = [...source.requests, ...target.requests].filter((r) => r.path.includes('/snapshots'));
      expect(calls.map((r) => r.method).sort()).toEqual(['DELETE', 'DELETE', 'GET', 'GET', 'POST', 'POST', 'POST', 'POST']);
      for (const r of calls) expect([...r.requestErrors, ...r.responseErrors], `${r.method} ${r.path}`).toEqual([]);
    } finally {
      await copy?.close();
      await server.close();
      await Promise.all([source.stop(), target.stop()]);
    }
  }, 180_000);
});
