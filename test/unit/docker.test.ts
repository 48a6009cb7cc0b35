/**
 * Docker cannot run on these machines, so the deployment files are checked for the structure the
 * README promises: one multi-stage image run as a non-root user with production dependencies only,
 * and a compose file with pinned Qdrant and Redis (noeviction), a scalable worker, health checks
 * and restart policies.
 */
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/processes.ts';
import { tempDir } from '../support/tmp.ts';

const dockerfile = readFileSync(path.join(REPO_ROOT, 'docker/Dockerfile'), 'utf8');
const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker/docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      build?: { context: string; dockerfile: string };
      command?: string[];
      environment?: Record<string, string>;
      ports?: string[];
      restart?: string;
      healthcheck?: object;
      container_name?: string;
      depends_on?: Record<string, { condition: string }>;
      volumes?: string[];
    }
  >;
  volumes: Record<string, unknown>;
};

describe('docker/Dockerfile', () => {
  it('is multi-stage, installs production dependencies only from the lockfile, and runs as a non-root user', () => {
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/COPY --from=deps/);
    expect(dockerfile).toMatch(/HEALTHCHECK/);
    for (const copied of [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '))) {
      expect(() => readFileSync(path.join(REPO_ROOT, copied)), `COPY ${copied}`).not.toThrow(/ENOENT/);
    }
  });

  it("compiles the static embedder's word table at build time, where the non-root user will read it", async () => {
    const cache = /STATIC_VECTORS_CACHE=(\S+)/.exec(dockerfile)?.[1];
    expect(cache).toMatch(/^\/app\//);
    const run = /^RUN (node --import tsx -e .*loadSifTable.*)$/m.exec(dockerfile)?.[1];
    expect(run, 'a RUN step that builds the table').toBeDefined();
    expect(dockerfile.indexOf(run!)).toBeLessThan(dockerfile.indexOf('USER node'));
    // The same command, run here into a temp dir, leaves a loadable table behind.
    const { dir, cleanup } = await tempDir('docker-sif-');
    try {
      execSync(run!, { cwd: REPO_ROOT, env: { ...process.env, STATIC_VECTORS_CACHE: dir }, stdio: 'pipe' });
      expect(readdirSync(dir).some((f) => f.endsWith('.f32'))).toBe(true);
    } finally {
      await cleanup();
    }
  }, 120_000);

  it('runs the commands that package.json runs', () => {
    const scripts = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).scripts;
    expect(JSON.parse(/^CMD (.+)$/m.exec(dockerfile)![1]!)).toEqual(scripts.start.split(' '));
    expect(compose.services.worker!.command).toEqual(scripts.worker.split(' '));
  });
});

describe('docker/docker-compose.yml', () => {
  const s = compose.services;

  it('pins Qdrant 1.19 and Redis, with volumes; Redis never evicts (BullMQ requires it)', () => {
    expect(s.qdrant!.image).toMatch(/^qdrant\/qdrant:v1\.19\.\d+$/);
    expect(s.redis!.image).toMatch(/^redis:\d+\.\d+\.\d+/);
    expect(s.redis!.command).toEqual(expect.arrayContaining(['--maxmemory-policy', 'noeviction']));
    expect(s.qdrant!.volumes![0]).toMatch(/^qdrant-data:/);
    expect(compose.volumes).toHaveProperty('qdrant-data');
  });

  it('has api and worker from one image, configured for Qdrant and Redis', () => {
    expect(s.api!.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
    expect(s.worker!.image).toBe(s.api!.image);
    for (const name of ['api', 'worker']) {
      expect(s[name]!.environment).toMatchObject({ VECTOR_STORE: 'qdrant', QDRANT_URL: 'http://qdrant:6333', REDIS_URL: 'redis://redis:6379' });
    }
    expect(s.api!.environment!.WORKER_IN_API).toBe('false');
  });

  it('lets the worker scale (no container name, no host port) and gives every service a health check and a restart policy', () => {
    expect(s.worker!.container_name).toBeUndefined();
    expect(s.worker!.ports).toBeUndefined();
    for (const [name, service] of Object.entries(s)) {
      if (name === 'keys-init') continue; // a one-shot init step (below)
      expect(service.healthcheck, name).toBeDefined();
      expect(service.restart, name).toBe('unless-stopped');
    }
    expect(s.api!.depends_on).toMatchObject({ qdrant: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
  });

  it('is secure by default: a one-shot keys-init bootstraps API keys into a volume the API reads', () => {
    const init = s['keys-init']!;
    expect(init.image).toBe(s.api!.image);
    expect(init.command).toEqual(['node', '--import', 'tsx', 'src/bin/keys.ts', 'bootstrap']);
    expect(init.restart).toBe('no');
    expect(init.environment!.API_KEYS_FILE).toBe('/keys/keys.json');
    expect(init.environment!.AUDIT_LOG).toBe('/keys/audit.jsonl'); // key changes audited in the volume, not the one-shot container
    expect(init.volumes).toEqual(['keys:/keys']);
    expect(s.api!.environment!.API_KEYS_FILE).toBe('/keys/keys.json');
    expect(s.api!.volumes).toEqual(['keys:/keys:ro']);
    expect(s.api!.depends_on).toMatchObject({ 'keys-init': { condition: 'service_completed_successfully' } });
    expect(compose.volumes).toHaveProperty('keys');
    // Metrics are not published on a port of their own; /metrics needs the metrics key.
    expect(s.api!.ports).toEqual(['3000:3000']);
  });
});
