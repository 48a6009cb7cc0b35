import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where the Qdrant server is and the alias the engine reads (QDRANT_URL, QDRANT_API_KEY, QDRANT_COLLECTION). */
export interface QdrantTarget {
  url: string;
  apiKey: string | undefined;
  alias: string;
}

/** One collection's snapshot as backed up: the collection it was taken of, and the file. */
export interface QdrantSnapshotFile {
  collection: string;
  /** What the collection is to the engine: the coupons (behind the alias) or the users. */
  role: 'coupons' | 'users';
  file: string;
  checksum: string | undefined;
}

async function call(target: QdrantTarget, method: string, route: string, body?: BodyInit, contentType?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (target.apiKey) headers['api-key'] = target.apiKey;
  if (contentType) headers['content-type'] = contentType;
  const res = await fetch(`${target.url.replace(/\/$/, '')}${route}`, { method, headers, body });
  if (!res.ok) throw new Error(`Qdrant ${method} ${route}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  return res;
}

/** The collection behind the alias (the engine writes through the alias; snapshots are of collections). */
async function liveCollection(target: QdrantTarget): Promise<string | undefined> {
  const { result } = (await (await call(target, 'GET', '/aliases')).json()) as { result: { aliases: Array<{ alias_name: string; collection_name: string }> } };
  return result.aliases.find((a) => a.alias_name === target.alias)?.collection_name;
}

/**
 * Takes a snapshot of the coupons collection (behind the alias) and of the users collection
 * through Qdrant's snapshot API, downloads each into `dir`, and deletes it from the server.
 */
export async function snapshotQdrant(target: QdrantTarget, dir: string): Promise<QdrantSnapshotFile[]> {
  const coupons = await liveCollection(target);
  if (!coupons) throw new Error(`Qdrant has no collection behind the alias '${target.alias}'`);
  const out: QdrantSnapshotFile[] = [];
  for (const [role, collection] of [
    ['coupons', coupons],
    ['users', `${target.alias}_users`],
  ] as const) {
    const exists = (await (await call(target, 'GET', `/collections/${collection}/exists`)).json()) as { result: { exists: boolean } };
    if (!exists.result.exists) continue;
    const created = (await (await call(target, 'POST', `/collections/${collection}/snapshots?wait=true`)).json()) as {
      result: { name: string; checksum?: string | null };
    };
    const { name, checksum } = created.result;
    const bytes = Buffer.from(await (await call(target, 'GET', `/collections/${collection}/snapshots/${encodeURIComponent(name)}`)).arrayBuffer());
    const file = `${collection}.snapshot`;
    await writeFile(path.join(dir, file), bytes);
    await call(target, 'DELETE', `/collections/${collection}/snapshots/${encodeURIComponent(name)}?wait=true`);
    out.push({ collection, role, file, checksum: checksum ?? undefined });
  }
  return out;
}

/** Uploads each snapshot into its collection (replacing what is there: the snapshot wins) and points the alias at the coupons. */
export async function recoverQdrant(target: QdrantTarget, dir: string, snapshots: readonly QdrantSnapshotFile[]): Promise<void> {
  for (const s of snapshots) {
    const form = new FormData();
    form.append('snapshot', new Blob([await readFile(path.join(dir, s.file))]), s.file);
    const checksum = s.checksum ? `&checksum=${s.checksum}` : '';
    await call(target, 'POST', `/collections/${s.collection}/snapshots/upload?wait=true&priority=snapshot${checksum}`, form);
  }
  const coupons = snapshots.find((s) => s.role === 'coupons');
  if (!coupons) return;
  const current = await liveCollection(target);
  const actions = [
    ...(current ? [{ delete_alias: { alias_name: target.alias } }] : []),
    { create_alias: { collection_name: coupons.collection, alias_name: target.alias } },
  ];
  await call(target, 'POST', '/collections/aliases', JSON.stringify({ actions }), 'application/json');
}
