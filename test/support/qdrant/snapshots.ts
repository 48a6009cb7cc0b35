import { createHash } from 'node:crypto';

/** A binary answer (a snapshot download): the emulator sends it as application/octet-stream. */
export class Binary {
  constructor(readonly bytes: Buffer) {}
}

interface Stored {
  name: string;
  creation_time: string;
  bytes: Buffer;
  checksum: string;
}

/**
 * Qdrant's collection snapshot API, emulated (create, list, download, delete, recover from an
 * upload): a snapshot is the collection serialised, so recovering it replaces the collection with
 * what it held when the snapshot was taken, as Qdrant's `priority=snapshot` recovery does.
 */
export class SnapshotShelf<C> {
  private readonly byCollection = new Map<string, Map<string, Stored>>();

  constructor(
    private readonly serialise: (c: C) => Buffer,
    private readonly deserialise: (bytes: Buffer) => C,
  ) {}

  handles(rest: string): boolean {
    return rest === 'snapshots' || rest.startsWith('snapshots/');
  }

  /** `rest` is the path after `/collections/{name}/`. */
  dispatch(method: string, name: string, rest: string, query: URLSearchParams, raw: Buffer, contentType: string, collections: Map<string, C>): unknown {
    const shelf = this.byCollection.get(name) ?? new Map<string, Stored>();
    this.byCollection.set(name, shelf);
    const describe = (s: Stored) => ({ name: s.name, creation_time: s.creation_time, size: s.bytes.length, checksum: s.checksum });
    if (rest === 'snapshots/upload' && method === 'POST') {
      const bytes = multipartFile(raw, contentType, 'snapshot');
      const expected = query.get('checksum');
      if (expected && sha256(bytes) !== expected) throw Object.assign(new Error('Snapshot checksum mismatch'), { status: 400 });
      collections.set(name, this.deserialise(bytes));
      return true;
    }
    const c = collections.get(name);
    if (!c) throw Object.assign(new Error(`Collection \`${name}\` doesn't exist!`), { status: 404 });
    if (rest === 'snapshots' && method === 'POST') {
      const now = new Date();
      const bytes = this.serialise(c);
      const stamp = now.toISOString().slice(0, 19).replace(/[:T]/g, '-');
      const s: Stored = { name: `${name}-${shelf.size + 1}-${stamp}.snapshot`, creation_time: now.toISOString().slice(0, 19), bytes, checksum: sha256(bytes) };
      shelf.set(s.name, s);
      return describe(s);
    }
    if (rest === 'snapshots' && method === 'GET') return [...shelf.values()].map(describe);
    const snapshot = shelf.get(decodeURIComponent(rest.slice('snapshots/'.length)));
    if (!snapshot) throw Object.assign(new Error('Snapshot not found'), { status: 404 });
    if (method === 'GET') return new Binary(snapshot.bytes);
    if (method === 'DELETE') return shelf.delete(snapshot.name);
    throw Object.assign(new Error(`not emulated: ${method} snapshots`), { status: 404 });
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The bytes of the named file part of a multipart/form-data body. */
function multipartFile(raw: Buffer, contentType: string, field: string): Buffer {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) throw Object.assign(new Error('expected multipart/form-data with a boundary'), { status: 400 });
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let at = raw.indexOf(delimiter);
  while (at >= 0) {
    const next = raw.indexOf(delimiter, at + delimiter.length);
    if (next < 0) break;
    const part = raw.subarray(at + delimiter.length + 2, next - 2); // past CRLF, before CRLF
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0 && part.subarray(0, headerEnd).toString('utf8').includes(`name="${field}"`)) return part.subarray(headerEnd + 4);
    at = next;
  }
  throw Object.assign(new Error(`multipart body has no '${field}' part`), { status: 400 });
}
