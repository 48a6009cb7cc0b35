/**
 * The definition store port: small JSON documents the business side writes through the API
 * (synonym sets; merchandising rules next), by kind and id, persisted beside the events: in
 * PostgreSQL when the events are (every API process shares them), else in a file in DATA_DIR.
 * `revision` changes on every write of a kind, so each process can notice changes with one cheap
 * read instead of reloading everything. One contract suite runs against both adapters.
 */
export type DefinitionKind = 'synonyms' | 'rules';

export interface Definition {
  id: string;
  body: unknown;
  /** ISO 8601 time of the last write. */
  updatedAt: string;
}

export interface DefinitionStore {
  readonly kind: string;
  open(): Promise<void>;
  /** Every definition of a kind, by id. */
  list(kind: DefinitionKind): Promise<Definition[]>;
  /** Creates or replaces one; returns it as stored. */
  put(kind: DefinitionKind, id: string, body: unknown): Promise<Definition>;
  /** Whether there was one to delete. */
  delete(kind: DefinitionKind, id: string): Promise<boolean>;
  /** A number that grows with every write of the kind, by any process. */
  revision(kind: DefinitionKind): Promise<number>;
  close(): Promise<void>;
}
