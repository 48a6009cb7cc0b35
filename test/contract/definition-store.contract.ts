import { afterEach, describe, expect, it } from 'vitest';
import type { DefinitionStore } from '../../src/definitions/definition-store.ts';

export interface DefinitionStoreHandle {
  store: DefinitionStore;
  /** A second store over the same storage (a restart, or another process). */
  reopen(): Promise<DefinitionStore>;
  dispose(): Promise<void>;
}

/** What every definition store must do. */
export function describeDefinitionStore(name: string, factory: () => Promise<DefinitionStoreHandle>): void {
  describe(`DefinitionStore contract: ${name}`, () => {
    let handle: DefinitionStoreHandle | undefined;
    const open = async () => {
      handle = await factory();
      await handle.store.open();
      return handle.store;
    };
    afterEach(async () => {
      await handle?.dispose();
      handle = undefined;
    });

    it('puts, replaces, lists by kind and deletes; the revision grows with every write of its kind only', async () => {
      const store = await open();
      expect(await store.list('synonyms')).toEqual([]);
      expect(await store.revision('synonyms')).toBe(0);
      const first = await store.put('synonyms', 's1', { synonyms: ['a', 'b'] });
      expect(first).toMatchObject({ id: 's1', body: { synonyms: ['a', 'b'] } });
      expect(Number.isNaN(Date.parse(first.updatedAt))).toBe(false);
      const r1 = await store.revision('synonyms');
      await store.put('synonyms', 's1', { synonyms: ['a', 'c'] });
      await store.put('synonyms', 's2', { root: 'tv', synonyms: ['television'] });
      const r2 = await store.revision('synonyms');
      expect(r2).toBeGreaterThan(r1);
      await store.put('rules', 'r1', { any: true });
      expect(await store.revision('synonyms')).toBe(r2);
      const listed = (await store.list('synonyms')).sort((a, b) => a.id.localeCompare(b.id));
      expect(listed.map((d) => [d.id, d.body])).toEqual([
        ['s1', { synonyms: ['a', 'c'] }],
        ['s2', { root: 'tv', synonyms: ['television'] }],
      ]);
      expect(await store.delete('synonyms', 's1')).toBe(true);
      expect(await store.delete('synonyms', 's1')).toBe(false);
      const r3 = await store.revision('synonyms');
      expect(r3).toBeGreaterThan(r2);
      expect((await store.list('synonyms')).map((d) => d.id)).toEqual(['s2']);
      expect((await store.list('rules')).map((d) => d.id)).toEqual(['r1']);
    });

    it('keeps every write across a reopen, revision included', async () => {
      const store = await open();
      await store.put('synonyms', 'x', { synonyms: ['coupon', 'voucher', 'promo code'] });
      await store.delete('synonyms', 'missing');
      const revision = await store.revision('synonyms');
      const again = await handle!.reopen();
      try {
        expect((await again.list('synonyms')).map((d) => d.body)).toEqual([{ synonyms: ['coupon', 'voucher', 'promo code'] }]);
        expect(await again.revision('synonyms')).toBe(revision);
      } finally {
        await again.close();
      }
    });

    it('serialises concurrent writes: none is lost', async () => {
      const store = await open();
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('synonyms', `c${i}`, { synonyms: [`w${i}`, `v${i}`] })));
      expect((await store.list('synonyms')).length).toBe(20);
      expect(await store.revision('synonyms')).toBeGreaterThanOrEqual(20);
    });
  });
}
