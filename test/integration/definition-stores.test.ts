/**
 * The definition store on both backends (one contract), and synonym sets reaching a second
 * process through PostgreSQL within a second.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { expect, it } from 'vitest';
import { FileDefinitionStore } from '../../src/definitions/file-definition-store.ts';
import { PostgresDefinitionStore } from '../../src/definitions/postgres-definition-store.ts';
import { createLogger } from '../../src/log.ts';
import { synonymCache } from '../../src/synonyms/synonym-set.ts';
import { describeDefinitionStore } from '../contract/definition-store.contract.ts';
import { POSTGRES_URL } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

describeDefinitionStore('JSON file (embedded)', async () => {
  const { dir, cleanup } = await tempDir('definitions-');
  const file = path.join(dir, 'definitions.json');
  const handle = {
    store: new FileDefinitionStore(file),
    async reopen() {
      const s = new FileDefinitionStore(file);
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

const prefix = () => `t${randomUUID().replace(/-/g, '').slice(0, 12)}_`;

describeDefinitionStore('PostgreSQL at 127.0.0.1:5432', async () => {
  const p = prefix();
  const handle = {
    store: new PostgresDefinitionStore({ url: POSTGRES_URL, tablePrefix: p }),
    async reopen() {
      const s = new PostgresDefinitionStore({ url: POSTGRES_URL, tablePrefix: p });
      await s.open();
      return s;
    },
    async dispose() {
      await handle.store.drop();
      await handle.store.close();
    },
  };
  return handle;
});

it('a synonym set written by one process is in force in another sharing PostgreSQL within 1 s', async () => {
  const p = prefix();
  const [a, b] = [new PostgresDefinitionStore({ url: POSTGRES_URL, tablePrefix: p }), new PostgresDefinitionStore({ url: POSTGRES_URL, tablePrefix: p })];
  await a.open();
  await b.open();
  const logger = createLogger('silent');
  const writer = synonymCache(a, logger);
  const reader = synonymCache(b, logger);
  await writer.start(200);
  await reader.start(200);
  try {
    expect(reader.compiled.expand('voucher').forms).toEqual(['voucher']);
    await writer.put('deals', { synonyms: ['voucher', 'coupon'] });
    const written = Date.now();
    while (reader.compiled.expand('voucher').forms.length < 2 && Date.now() - written < 1000) await new Promise((r) => setTimeout(r, 20));
    expect(reader.compiled.expand('voucher').forms).toEqual(['voucher', 'coupon']);
    expect(reader.list().map((s) => s.id)).toEqual(['deals']);
    await writer.delete('deals');
    await reader.refresh();
    expect(reader.compiled.size).toBe(0);
  } finally {
    writer.stop();
    reader.stop();
    await a.drop();
    await a.close();
    await b.close();
  }
});
