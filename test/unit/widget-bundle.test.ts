import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { widgetBundle } from '../../src/widgets/bundle.ts';

const bundle = widgetBundle();

describe('widget bundle (/widgets/v1.js)', () => {
  it('is under 15 kB gzipped', () => {
    expect(gzipSync(bundle, { level: 9 }).length).toBeLessThan(15 * 1024);
  });

  it('has no runtime dependencies: no imports of other modules', () => {
    expect(bundle).not.toMatch(/^\s*import\s/m);
    expect(bundle).not.toMatch(/\bimport\(/);
  });
});
