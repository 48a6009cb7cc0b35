/**
 * The README's first command: `npm start` on an empty data dir serves search within 60 s, indexes
 * the sample catalogue, and a SIGTERM shuts it down cleanly even mid-indexing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT, spawnTs, waitFor } from '../support/processes.ts';
import { tempDir } from '../support/tmp.ts';

it('`npm start` answers a search within 60 s and shuts down gracefully', async () => {
  const start: string = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).scripts.start;
  expect(start).toBe('node --import tsx src/bin/api.ts'); // what spawnTs runs below
  const { dir, cleanup } = await tempDir('start-');
  const started = Date.now();
  const app = spawnTs('src/bin/api.ts', { DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'info' });
  try {
    const url = await waitFor('the server to listen', () => /"url":"(http:[^"]+)"/.exec(app.output())?.[1], 60_000);
    const body = await waitFor(
      'a search with results',
      async () => {
        const res = await fetch(`${url}/v1/search?q=half+price+pizza&limit=3`);
        const json = (await res.json()) as { results?: unknown[] };
        return res.status === 200 && json.results && json.results.length > 0 ? json : undefined;
      },
      60_000 - (Date.now() - started),
      250,
    );
    expect(body.results!.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(60_000);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(app.output()).toContain('shutting down');
  } finally {
    app.child.kill('SIGKILL');
    await cleanup();
  }
});

it('refuses to start on 0.0.0.0 without API keys, and starts with a warning when ALLOW_ANONYMOUS=true', async () => {
  const { dir, cleanup } = await tempDir('start-open-');
  try {
    const refused = spawnTs('src/bin/api.ts', { DATA_DIR: dir, HOST: '0.0.0.0', PORT: '0', SEED_SAMPLE: 'false' });
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toMatch(/refusing to listen on 0\.0\.0\.0 without API keys[\s\S]*npm run keys -- create/);

    const open = spawnTs('src/bin/api.ts', { DATA_DIR: dir, HOST: '0.0.0.0', PORT: '0', SEED_SAMPLE: 'false', ALLOW_ANONYMOUS: 'true', LOG_LEVEL: 'info' });
    try {
      await waitFor('the server to listen', () => /"url":"(http:[^"]+)"/.test(open.output()), 60_000);
      expect(open.output()).toMatch(/"level":40[^\n]*ALLOW_ANONYMOUS=true: the API listens on 0\.0\.0\.0 without API keys/);
      open.child.kill('SIGTERM');
      expect(await open.exited).toBe(0);
    } finally {
      open.child.kill('SIGKILL');
    }
  } finally {
    await cleanup();
  }
});
