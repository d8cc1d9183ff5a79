import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataStatus, formatDataStatus } from '../src/index.js';
import { cleanupTempDirs, syntheticDataset, tempDir, writeSynthetic } from './helpers.js';

afterEach(cleanupTempDirs);

describe('dataStatus', () => {
  const mn = syntheticDataset('mnist', 3);
  const fa = syntheticDataset('fashion-mnist', 4);
  const catalog = { mnist: mn.spec, 'fashion-mnist': fa.spec };

  it('reports the chosen location, every location looked at, and per-file checksum state', () => {
    const root = tempDir();
    const home = join(root, 'home');
    const cache = writeSynthetic(join(home, '.cache', 'xs', 'datasets', 'mnist'), mn, 'gz');
    writeSynthetic(join(root, 'data', 'mnist'), mn, 'raw', ['trainImages']);
    const sysF = writeSynthetic(join(root, 'sys-fashion'), fa);
    writeFileSync(join(sysF, 't10k-labels-idx1-ubyte'), Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 9, 9]));
    const st = dataStatus({ env: { HOME: home, XS_DATA_DIR: join(root, 'data') }, systemDirs: { mnist: [], 'fashion-mnist': [sysF] }, catalog });
    const [m, f] = st;
    expect(m!.name).toBe('mnist');
    expect(m!.ok).toBe(true);
    expect(m!.source).toEqual({ kind: 'cache', label: 'user cache', dir: cache });
    expect(m!.locations.map((l) => [l.kind, l.missing.length])).toEqual([['explicit', 3], ['cache', 0]]);
    expect(m!.files.map((x) => [x.state, x.verifiedAs])).toEqual([['ok', 'gzip'], ['ok', 'gzip'], ['ok', 'gzip'], ['ok', 'gzip']]);
    expect(f!.ok).toBe(false);
    expect(f!.source?.kind).toBe('system');
    expect(f!.files.map((x) => x.state)).toEqual(['ok', 'ok', 'ok', 'bad']);
    expect(f!.files[3]!.message).toContain('SHA-256 mismatch: expected');
    const text = formatDataStatus(st);
    expect(text).toContain(`mnist: OK, found in cache (user cache): ${cache}`);
    expect(text).toContain(`fashion-mnist: PROBLEM, found in system (systemDirs option): ${sysF}`);
    expect(text).toMatch(/testLabels {2}bad .*t10k-labels-idx1-ubyte\n {6}.*SHA-256 mismatch/);
  });

  it('reports a dataset that is nowhere, with where a download would go; never downloads', () => {
    const home = tempDir();
    const st = dataStatus({ names: ['fashion-mnist'], env: { HOME: home }, systemDirs: { 'fashion-mnist': [] }, catalog, fetch: () => Promise.reject(new Error('must not fetch')) });
    expect(st).toHaveLength(1);
    expect(st[0]!.ok).toBe(false);
    expect(st[0]!.source).toBeUndefined();
    expect(st[0]!.files.every((x) => x.state === 'missing')).toBe(true);
    expect(formatDataStatus(st)).toContain(`fashion-mnist: not found (would download into ${join(home, '.cache', 'xs', 'datasets', 'fashion-mnist')})`);
  });

  it('verify: false reports files as unchecked', () => {
    const root = tempDir();
    writeSynthetic(join(root, 'd', 'mnist'), mn);
    const [m] = dataStatus({ names: ['mnist'], dataDir: join(root, 'd'), env: { HOME: root }, catalog, verify: false });
    expect(m!.files.map((x) => x.state)).toEqual(['unchecked', 'unchecked', 'unchecked', 'unchecked']);
    expect(m!.ok).toBe(true);
  });
});
