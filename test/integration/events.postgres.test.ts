/** Events in PostgreSQL: accepted by the API, counted by the counters job on the queue, exactly once. */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/events/postgres-event-store.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { api, POSTGRES_URL, startServer, testEnv } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

it('counts events through the queue job once, however often a batch is replayed', async () => {
  const { dir, cleanup } = await tempDir('events-pg-');
  const prefix = `t${randomUUID().replace(/-/g, '').slice(0, 12)}_`;
  const server = await startServer(testEnv(dir, { DATABASE_URL: POSTGRES_URL, EVENTS_TABLE_PREFIX: prefix }));
  try {
    const [coupon] = generateCatalogue({ size: 1, seed: 4 });
    await server.engine.upsertCoupons([coupon!]);
    await server.engine.queue.drained();
    const events = Array.from({ length: 5 }, (_, i) => ({
      event_id: `pg-${i}`,
      user_id: `u${i % 2}`,
      coupon_id: coupon!.id,
      type: 'click',
      ts: new Date().toISOString(),
    }));
    const first = await api(server.url, 'POST', '/v1/events', { events });
    expect(first.json).toMatchObject({ accepted: 5, duplicates: 0 });
    expect(first.json.job_id).toMatch(/^counters-/);
    await server.engine.queue.drained();
    expect((await server.engine.job(first.json.job_id)).result).toEqual({ counted: 5, users: 2 });
    for (let i = 0; i < 3; i++) expect((await api(server.url, 'POST', '/v1/events', { events })).json).toEqual({ accepted: 0, duplicates: 5 });
    await server.engine.queue.drained();
    expect((await server.engine.events.couponStats([coupon!.id])).get(coupon!.id)!.counts.click).toBeCloseTo(5, 3);
    expect((await server.engine.events.userAffinity('u0')).merchants[coupon!.merchant.id]).toBeCloseTo(3, 3);
  } finally {
    await server.close();
    const store = new PostgresEventStore({ url: POSTGRES_URL, tablePrefix: prefix });
    await store.drop();
    await store.close();
    await cleanup();
  }
});
