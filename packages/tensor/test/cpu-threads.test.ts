/**
 * The threaded wasm float32 matmul (src/backends/cpu/wasm/threads.ts): results bit-identical to the
 * single-threaded kernel (random shapes, every transpose layout dot_general uses, batches, offsets, both
 * split directions, the temporary-memory path), the size threshold (large products go to the pool, small
 * ones do not), XS_THREADS=1, and that an idle pool never keeps a process alive. The kernel is the FMA one
 * (relaxed SIMD turned on with enableRelaxedSimd), and the mul + add one after wasmMatmul.fma = false.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSgemm, defaultConfig, enableRelaxedSimd, fmaConfig, RETAIN_BYTES, wasmMatmul } from '../src/backends/cpu/wasm/sgemm.js';
import { shutdownThreads, startThreads, matmulThreads, threadStats, THREAD_MIN_WORK, type SgemmPool } from '../src/backends/cpu/wasm/threads.js';
import { mulberry32 } from './helpers/rng.js';
import { dotMM, label, layouts } from './helpers/matmul.js';

const randInt = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function rand32(r: () => number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return a;
}

/** Index of the first element that differs in its bits (-0 vs 0, NaN payloads), or -1. */
function firstBitDifference(x: Float32Array, y: Float32Array): number {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}



const initial = { ...matmulThreads };
const wasmInitially = { ...wasmMatmul };
let pool: SgemmPool;

beforeAll(async () => {
  // two threads in all, whatever this machine has (a 1-core machine would otherwise get none)
  matmulThreads.threads = 2;
  wasmMatmul.enabled = true;
  wasmMatmul.fma = true;
  expect(await enableRelaxedSimd()).toBe(true);
  const p = await startThreads();
  expect(p, 'the pool starts (node:worker_threads, shared wasm memory)').toBeDefined();
  pool = p!;
  expect(pool.cfg).toBe(fmaConfig);
});
afterEach(() => {
  matmulThreads.threads = 2;
  matmulThreads.minWork = initial.minWork;
});
afterAll(async () => {
  await shutdownThreads();
  Object.assign(matmulThreads, initial);
  Object.assign(wasmMatmul, wasmInitially);
});

describe('threaded sgemm is bit-identical to the single-threaded kernel', () => {
  it('random shapes, every layout, offsets, both split directions', () => {
    const single = createSgemm(pool.cfg)!;
    const r = mulberry32(8);
    const before = pool.stats.runs;
    let threaded = 0;
    for (let t = 0; t < 48; t++) {
      const [ta, tb] = layouts[t % 4]!;
      // M ≥ N splits rows, N > M columns; sizes off the tile (4 × 8), the K block (256) and NC (2040)
      const big = randInt(r, 96, t % 8 === 0 ? 2100 : 400);
      const small = randInt(r, 2, 90);
      const [M, N] = t % 2 === 0 ? [big, small] : [small, big];
      const K = randInt(r, 1, t % 3 === 0 ? 700 : 80);
      const aOff = randInt(r, 0, 7);
      const bOff = randInt(r, 0, 7);
      const cOff = randInt(r, 0, 7);
      const A = rand32(r, aOff + M * K);
      const B = rand32(r, bOff + K * N);
      const [sAm, sAk] = ta ? [1, M] : [K, 1];
      const [sBk, sBn] = tb ? [1, K] : [N, 1];
      const C1 = new Float32Array(cOff + M * N + 3).fill(NaN);
      const C2 = new Float32Array(cOff + M * N + 3).fill(NaN);
      expect(single.run(M, N, K, A, aOff, sAm, sAk, B, bOff, sBk, sBn, C1, cOff)).toBe(true);
      if (pool.run(M, N, K, A, aOff, sAm, sAk, B, bOff, sBk, sBn, C2, cOff)) threaded++;
      else single.run(M, N, K, A, aOff, sAm, sAk, B, bOff, sBk, sBn, C2, cOff);
      expect(firstBitDifference(C1, C2), `${label(ta, tb)} ${M}x${K}x${N}`).toBe(-1);
    }
    // every one of these shapes is big enough in its split direction (≥ 2 chunks of ≥ 16 rows or 48 columns)
    expect(threaded).toBe(48);
    expect(pool.stats.runs - before).toBe(48);
  });

  it('operands with zero slices (skipped, wasm/kernel.ts) and non-finite values: the same bits as one thread, and as the dense kernel', () => {
    const single = createSgemm(pool.cfg)!;
    const r = mulberry32(12);
    wasmMatmul.skipZerosMinWork = 0;
    const listedBefore = pool.skipping.listed.a + pool.skipping.listed.b;
    for (let t = 0; t < 24; t++) {
      const [ta, tb] = layouts[t % 4]!;
      const big = randInt(r, 96, 500);
      const small = randInt(r, 2, 90);
      const [M, N] = t % 2 === 0 ? [big, small] : [small, big];
      const K = randInt(r, 1, t % 3 === 0 ? 700 : 120);
      const A = rand32(r, M * K);
      const B = rand32(r, K * N);
      const [sAm, sAk] = ta ? [1, M] : [K, 1];
      const [sBk, sBn] = tb ? [1, K] : [N, 1];
      // most k slices of one operand zero (as in a batch of images), some elements zero in the other
      for (let k = 0; k < K; k++) {
        const zero = r() < 0.7;
        for (let i = 0; i < M; i++) if (t % 2 === 0 ? zero : r() < 0.2) A[i * sAm + k * sAk] = 0;
        for (let j = 0; j < N; j++) if (t % 2 === 1 ? zero : r() < 0.2) B[k * sBk + j * sBn] = 0;
      }
      if (t % 6 === 5) B[randInt(r, 0, B.length - 1)] = Infinity;
      if (t % 6 === 4) A[randInt(r, 0, A.length - 1)] = NaN;
      const C1 = new Float32Array(M * N);
      const C2 = new Float32Array(M * N);
      const C3 = new Float32Array(M * N);
      expect(single.run(M, N, K, A, 0, sAm, sAk, B, 0, sBk, sBn, C1, 0)).toBe(true);
      expect(pool.run(M, N, K, A, 0, sAm, sAk, B, 0, sBk, sBn, C2, 0)).toBe(true);
      wasmMatmul.skipZeros = false;
      expect(single.run(M, N, K, A, 0, sAm, sAk, B, 0, sBk, sBn, C3, 0)).toBe(true);
      wasmMatmul.skipZeros = true;
      expect(firstBitDifference(C1, C2), `threads ${label(ta, tb)} ${M}x${K}x${N}`).toBe(-1);
      expect(firstBitDifference(C1, C3), `dense ${label(ta, tb)} ${M}x${K}x${N}`).toBe(-1);
    }
    wasmMatmul.skipZerosMinWork = wasmInitially.skipZerosMinWork;
    expect(single.skipping.listed.a + single.skipping.listed.b).toBeGreaterThan(12);
    expect(pool.skipping.listed.a + pool.skipping.listed.b - listedBefore).toBeGreaterThan(12);
  });

  it('through dot_general: the four transpose variants and batch dims, threads on and off', () => {
    const r = mulberry32(9);
    matmulThreads.minWork = 1; // split everything that can be split
    for (const [ta, tb] of layouts) {
      for (const [batch, M, K, N] of [
        [[], 100, 784, 60],
        [[], 60, 100, 784],
        [[], 784, 100, 60],
        [[3], 70, 33, 50],
        [[2, 2], 37, 129, 150],
      ] as const) {
        const nb = batch.reduce((a, b) => a * b, 1);
        const A = rand32(r, nb * M * K);
        const B = rand32(r, nb * K * N);
        const runs = threadStats().runs;
        const withThreads = dotMM(A, B, M, K, N, ta, tb, [...batch]);
        expect(threadStats().runs - runs, 'each batch member split').toBe(nb);
        matmulThreads.threads = 1;
        const without = dotMM(A, B, M, K, N, ta, tb, [...batch]);
        expect(threadStats().runs - runs).toBe(nb);
        matmulThreads.threads = 2;
        expect(firstBitDifference(withThreads, without), `${label(ta, tb)} [${batch}] ${M}x${K}x${N}`).toBe(-1);
      }
    }
  });

  it(`a product needing more than ${RETAIN_BYTES >> 20} MiB runs in a temporary shared memory, then the pool's own again`, () => {
    const single = createSgemm(pool.cfg)!;
    const r = mulberry32(10);
    const check = (M: number, K: number, N: number): void => {
      const A = rand32(r, M * K);
      const B = rand32(r, K * N);
      const C1 = new Float32Array(M * N);
      const C2 = new Float32Array(M * N);
      single.run(M, N, K, A, 0, 1, M, B, 0, N, 1, C1, 0);
      expect(pool.run(M, N, K, A, 0, 1, M, B, 0, N, 1, C2, 0)).toBe(true);
      expect(firstBitDifference(C1, C2), `${M}x${K}x${N}`).toBe(-1);
    };
    check(4200, 5, 4100); // C alone is 69 MB
    check(300, 50, 200);
    check(4100, 3, 4200);
  });
});

describe('the pool follows the kernel config', () => {
  it('wasmMatmul.fma = false: the FMA pool is not used, a new one runs the mul + add kernel, bit-identical to one thread', async () => {
    const r = mulberry32(13);
    const [M, K, N] = [300, 200, 100];
    matmulThreads.minWork = 1;
    const A = rand32(r, M * K);
    const B = rand32(r, K * N);
    const single = (cfg: typeof defaultConfig): Float32Array => {
      const C = new Float32Array(M * N);
      createSgemm(cfg)!.run(M, N, K, A, 0, K, 1, B, 0, N, 1, C, 0);
      return C;
    };
    const fused = dotMM(A, B, M, K, N, false, false);
    expect(firstBitDifference(fused, single(fmaConfig))).toBe(-1);
    wasmMatmul.fma = false;
    try {
      // the FMA pool is not used for a mul + add product (it is replaced: runs count from zero again)
      const plain = dotMM(A, B, M, K, N, false, false);
      expect(firstBitDifference(plain, single(defaultConfig))).toBe(-1);
      expect(firstBitDifference(plain, fused)).not.toBe(-1);
      const p = (await startThreads())!;
      expect(p).not.toBe(pool);
      expect(p.cfg).toBe(defaultConfig);
      pool = p;
      expect(firstBitDifference(dotMM(A, B, M, K, N, false, false), plain)).toBe(-1);
      expect(threadStats().runs).toBe(1);
    } finally {
      wasmMatmul.fma = true;
    }
    pool = (await startThreads())!;
    expect(pool.cfg).toBe(fmaConfig);
    expect(firstBitDifference(dotMM(A, B, M, K, N, false, false), fused)).toBe(-1);
    expect(threadStats().runs).toBe(1);
  });
});

describe('when the pool is used', () => {
  it('a large product is split between the threads, a small one is not', () => {
    const r = mulberry32(11);
    const big = 256; // 256³ = 16.8M multiply-adds
    const small = 64; // 64³ = 262k
    expect(big ** 3).toBeGreaterThanOrEqual(THREAD_MIN_WORK);
    expect(small ** 3).toBeLessThan(THREAD_MIN_WORK);
    const A = rand32(r, big * big);
    const B = rand32(r, big * big);
    const s0 = threadStats();
    dotMM(A.subarray(0, small * small), B.subarray(0, small * small), small, small, small, false, false);
    expect(threadStats().runs).toBe(s0.runs);
    for (let i = 0; i < 8; i++) dotMM(A, B, big, big, big, false, true);
    expect(threadStats().runs - s0.runs).toBe(8);
    // the worker computes its chunk whenever it wakes in time (else the caller does): on a busy machine it
    // may miss a few products, not hundreds
    let n = 0;
    while (threadStats().workerChunks === s0.workerChunks && n < 500) {
      dotMM(A, B, big, big, big, false, true);
      n++;
    }
    expect(threadStats().workerChunks).toBeGreaterThan(s0.workerChunks);
  });

  it('XS_THREADS=1 in the environment turns threads off when the library loads', async () => {
    vi.stubEnv('XS_THREADS', '1');
    vi.resetModules();
    try {
      const mod = await import('../src/backends/cpu/wasm/threads.js');
      expect(mod.matmulThreads.threads).toBe(1);
      expect(mod.sgemmPool(1e12, defaultConfig)).toBeUndefined();
      expect(await mod.startThreads()).toBeUndefined();
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
    vi.stubEnv('XS_THREADS', '3');
    try {
      const mod = await import('../src/backends/cpu/wasm/threads.js');
      expect(mod.matmulThreads.threads).toBe(3);
      const p = await mod.startThreads();
      expect(p?.threads).toBe(3);
      expect(p?.readyWorkers).toBe(2);
      await mod.shutdownThreads();
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });

  it('shutdownThreads stops the workers; the next large product starts a new pool', async () => {
    await shutdownThreads();
    expect(threadStats().runs).toBe(0);
    const p = await startThreads();
    expect(p).toBeDefined();
    expect(p).not.toBe(pool);
    pool = p!;
    const r = mulberry32(12);
    const A = rand32(r, 300 * 300);
    dotMM(A, A, 300, 300, 300, false, false);
    expect(threadStats().runs).toBe(1);
  });
});

describe('an idle pool does not keep a process alive', () => {
  it('a program that used the threads exits by itself', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'xs-threads-'));
    const src = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src')).href;
    const script = path.join(dir, 'main.mts');
    // a big product through the public API, once the pool is up; then nothing: the process must end
    writeFileSync(
      script,
      `import { numpy as np } from '${src}/index.ts';
import { startThreads, threadStats } from '${src}/backends/cpu/wasm/threads.ts';
const pool = await startThreads();
const a = np.ones([300, 300]);
const s = np.matmul(a, a).sum().item();
console.log(JSON.stringify({ threads: pool?.threads, runs: threadStats().runs, s }));
`,
    );
    try {
      const res = spawnSync(process.execPath, ['--import', 'tsx', script], {
        cwd: path.join(path.dirname(fileURLToPath(import.meta.url)), '..'),
        env: { ...process.env, XS_THREADS: '2' },
        encoding: 'utf8',
        timeout: 120_000, // a hang guard, not a speed limit
      });
      expect(res.error, res.stderr).toBeUndefined();
      expect(res.signal, res.stderr).toBeNull();
      expect(res.status, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout.trim())).toEqual({ threads: 2, runs: 1, s: 300 * 300 * 300 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
