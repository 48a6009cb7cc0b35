/**
 * Secure by default: the API refuses a non-loopback interface without keys (unless anonymous
 * access is asked for), and a fresh deployment's keys are bootstrapped once, stored hashed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrapKeys, readKeyFile } from '../../src/access/api-keys.ts';
import { checkListenPolicy, isLoopback } from '../../src/access/listen-policy.ts';
import { loadConfig } from '../../src/config.ts';
import { tempDir } from '../support/tmp.ts';

describe('listen policy', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com']) expect(isLoopback(h), h).toBe(false);
  });

  it('refuses 0.0.0.0 without API keys, saying how to create one; keys or ALLOW_ANONYMOUS=true let it start', () => {
    expect(() => checkListenPolicy(loadConfig({ HOST: '0.0.0.0' }))).toThrow(
      /refusing to listen on 0\.0\.0\.0 without API keys[\s\S]*npm run keys -- create[\s\S]*ALLOW_ANONYMOUS=true/,
    );
    expect(checkListenPolicy(loadConfig({ HOST: '0.0.0.0', API_KEYS_FILE: 'keys.json' }))).toBeUndefined();
    expect(checkListenPolicy(loadConfig({ HOST: '0.0.0.0', ALLOW_ANONYMOUS: 'true' }))).toMatch(/without API keys/);
    expect(checkListenPolicy(loadConfig({}))).toBeUndefined(); // npm start on loopback: open local mode
  });
});

describe('keys bootstrap', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterAll(async () => cleanup?.());

  it('creates the backend, widget, metrics and analytics keys once, storing only their hashes', async () => {
    const t = await tempDir('keys-bootstrap-');
    cleanup = t.cleanup;
    const file = path.join(t.dir, 'keys.json');
    const created = bootstrapKeys(file);
    expect(created.map((c) => [c.record.name, c.record.scopes])).toEqual([
      ['backend', ['search', 'events', 'write']],
      ['widgets', ['search', 'events']],
      ['metrics', ['metrics']],
      ['analytics', ['analytics']],
    ]);
    const text = readFileSync(file, 'utf8');
    // A key reads csk_<12 hex id>_<secret>; the secret itself must not be in the file.
    for (const { key } of created) expect(text).not.toContain(key.slice('csk_'.length + 12 + 1));
    expect(bootstrapKeys(file)).toEqual([]); // a second start changes nothing
    expect(readKeyFile(file).keys).toHaveLength(4);
  });
});
