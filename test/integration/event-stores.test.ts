import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { FileEventStore } from '../../src/events/file-event-store.ts';
import { PostgresEventStore } from '../../src/events/postgres-event-store.ts';
import { describeEventStore } from '../contract/event-store.contract.ts';
import { POSTGRES_URL } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

describeEventStore('append-only file (embedded)', async () => {
  const { dir, cleanup } = await tempDir('events-');
  const file = path.join(dir, 'events.jsonl');
  const handle = {
    store: new FileEventStore(file) as FileEventStore,
    async reopen() {
      const s = new FileEventStore(file);
      await s.open();
      return s;
    },
    async dispose() {
      await handle.store.close();
      await cleanup();
    },
  };
  return handle;
});

describeEventStore('PostgreSQL at 127.0.0.1:5432', async () => {
  const prefix = `t${randomUUID().replace(/-/g, '').slice(0, 12)}_`;
  const handle = {
    store: new PostgresEventStore({ url: POSTGRES_URL, tablePrefix: prefix }) as PostgresEventStore,
    async reopen() {
      const s = new PostgresEventStore({ url: POSTGRES_URL, tablePrefix: prefix });
      await s.open();
      return s;
    },
    async dispose() {
      const s = new PostgresEventStore({ url: POSTGRES_URL, tablePrefix: prefix });
      await s.drop();
      await s.close();
      await handle.store.close().catch(() => undefined);
    },
  };
  return handle;
});
