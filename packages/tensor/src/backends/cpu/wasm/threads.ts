/**
 * The wasm float32 matmul on several threads: a small pool of worker threads that share one WebAssembly
 * memory with the calling thread and each compute a part of C with the same kernel (kernel.ts's `run`).
 *
 *   the caller copies A and B into the shared memory (as the single-threaded Sgemm does into its own)
 *   C is cut into one chunk of rows (or of columns, when N > M) per thread; every participant, the caller
 *     included, claims chunks one at a time from a shared counter and runs the kernel's block loops on its
 *     chunk, with its own packing buffers
 *   the caller waits (Atomics.wait) until every chunk is done, then copies C out
 *
 * So the kernel interface stays synchronous, and a worker that is slow to wake (a busy machine) only means
 * that the caller computes more of the chunks itself. Each C element is summed exactly as in the
 * single-threaded kernel (same K blocks, same order), so the results are identical bit for bit. For that
 * the pool runs the kernel config the single-threaded one uses (sgemm.ts: the FMA or the mul + add kernel);
 * when that changes (wasmMatmul.fma, enableRelaxedSimd), the pool is replaced by one for the new kernel.
 *
 * Why one shared memory rather than a copy of the operands per worker: the shared memory costs what the
 * single-threaded kernel already pays (A and B copied in once, C out once; the kernel runs as fast on a
 * shared memory as on an ordinary one, measured), while per-worker copies would add a copy of the shared
 * operand per worker (all of B for an M split: 7 µs at [100×784]·[784×60], 0.35 ms at 1024³) and of the
 * parts of C back.
 *
 * Node only for now: the pool needs `node:worker_threads` (loaded with a dynamic import the first time a
 * product is big enough, so browser bundles never load it), SharedArrayBuffer and shared wasm memory. Where
 * any of these is missing, or the workers have not started yet, matmul runs single-threaded. A browser
 * version would start Web Workers with the same protocol (but may not Atomics.wait on its main thread).
 *
 * Workers are unref'd and wait in Atomics.wait, so they never keep a process alive; stopMatmulThreads()
 * stops them explicitly. XS_THREADS=1 (or 0) turns threads off; XS_THREADS=n asks for n threads in all
 * (the caller plus n - 1 workers); the default is min(available cores, 4), none on a single core. Each
 * thread that runs xs has its own pool: code that already keeps the cores busy with its own worker threads
 * should set matmulThreads.threads = 1 in them.
 *
 * While another process holds the second core, a split product costs about 5% more than on one thread
 * (the worker rarely gets to claim its chunk, and the caller computes it instead).
 */
import { gemmModuleBytes } from './kernel.js';
import { type SharedWasmMemory as SharedMemory, type WasmApi, wasmApi } from './api.js';
import { MAX_BYTES, PAGE, RETAIN_BYTES, ZeroSkipping, sgemmLayout, sharedSgemm, type RunFn, type SgemmConfig } from './sgemm.js';


/** The parts of node:worker_threads used here (declared locally so that no Node types are needed). */
interface NodePort {
  postMessage(value: unknown): void;
  unref(): void;
  close(): void;
}
interface NodeWorker {
  on(event: 'message' | 'error' | 'exit', listener: (arg: unknown) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}
interface WorkerThreads {
  Worker: new (source: string, options: { eval: true; workerData: unknown; transferList: unknown[] }) => NodeWorker;
  MessageChannel: new () => { port1: NodePort; port2: NodePort };
}

/** Largest wasm memory (pages), declared as the shared memories' maximum. */
const MAX_PAGES = MAX_BYTES / PAGE;

/**
 * M·N·K from which a float32 product is split between threads. Measured on the project's 2-core machine
 * (Node 20, 2 threads, single-threaded ≈ 40 GFLOP/s; median speed-up over ~200 interleaved rounds while the
 * machine was otherwise idle): 160³ (4.1M) 1.11×, the seed MLP's 4.7M products ([100×784]·[784×60] and its
 * transposes) 1.03–1.05× with a tenth of rounds below 0.8×, 176³ (5.5M) 1.19×, 192³ (7.1M) 1.29×, 224³
 * 1.42×, 256³ 1.55×, 384³ 1.8×, 1024³ 1.94×. Below about 6M the hand-over (waking a worker, packing the
 * shared operand twice) eats the gain, so the MLP's products stay on one thread.
 */
export const THREAD_MIN_WORK = 6 << 20;

/**
 * Chunks per thread. One each measured best: 256³ 1.55× against 1.44× with two (each chunk packs the
 * other operand again), and no worse while another process holds the second core (0.95× against 0.93×),
 * since the caller also claims the chunk of a worker that has not woken yet.
 */
const CHUNKS_PER_THREAD = 1;
/** At most this many chunks in a product (the chunk table's size). */
const MAX_CHUNKS = 64;

function envThreads(): number | undefined {
  const v = typeof process !== 'undefined' ? process.env?.XS_THREADS : undefined;
  if (v === undefined || v === '') return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** How the CPU backend splits float32 matmuls between threads (see {@link matmulThreads}). */
export interface MatmulThreadConfig {
  /**
   * Threads in all, the calling one included; 1 (or 0) keeps every matmul on the calling thread. Default:
   * the environment variable XS_THREADS, read when the library loads, else undefined, meaning
   * min(available cores, 4). A change takes effect at the pool's next start, except that a value below 2
   * stops the use of a running pool at once.
   */
  threads: number | undefined;
  /** M·N·K from which a product is split (smaller ones cost more to hand over than they gain). */
  minWork: number;
}

/**
 * The CPU backend's matmul threads: float32 matrix products of at least `minWork` multiply-adds are split
 * between the calling thread and worker threads (Node's worker_threads, sharing one WebAssembly memory), with
 * results identical bit for bit to one thread's. The pool starts by itself on the first such product (until
 * it is ready, which takes some tens of milliseconds, products run on one thread). Where worker threads,
 * SharedArrayBuffer or shared WebAssembly memory are unavailable (a browser, for now), everything runs on
 * one thread. `XS_THREADS=1` turns threads off.
 *
 * @example
 * import { matmulThreads } from '@xs/tensor';
 * matmulThreads.threads = 1; // one thread from now on
 */
export const matmulThreads: MatmulThreadConfig = {
  threads: envThreads(),
  minWork: THREAD_MIN_WORK,
};

// ---- the shared control block (Int32Array slots)
const SEQ = 0; // job number; workers Atomics.wait on it
const CLAIM = 1; // (job tag << 16) | chunks not yet claimed
const DONE = 2; // chunks finished in the current job
const STOP = 3; // 1: workers exit their loop
const ERROR = 4; // 1: a worker's kernel threw
const WORKER_CHUNKS = 5; // chunks computed by workers, ever (statistics)
const GEN = 6; // the job's memory: 0 the pool's own, else a temporary one posted to each worker
const N_CHUNKS = 7;
const AREA = 8; // bytes per participant's area (scratch | packed B | packed A | lists)
const PB = 9; // packed B and packed A within an area
const PA = 10;
const K_ = 11;
const KC_MAX = 12;
const MC_ = 13;
const NC_ = 14;
const RA = 15;
const SAM = 16;
const SAK = 17;
const RB = 18;
const SBK = 19;
const SBN = 20;
const PC = 21;
const LDC = 22;
const LB = 23; // the panels' lists within an area (0: zeros are not skipped)
const LA = 24;
const RANGES = 32; // chunk c: m0, m1, n0, n1 at RANGES + 4c
const CTRL_SLOTS = RANGES + 4 * MAX_CHUNKS;

/**
 * The worker's code (a CommonJS script, run with `eval: true`, so the worker needs no file of its own and
 * works the same from src/ under tsx or vitest and from dist/). It instantiates the kernel on the shared
 * memory, says it is ready, then loops: wait for a job, claim chunks until none is left, run each.
 */
const WORKER_SOURCE = `'use strict';
const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const { module, memory, ctrl, port, id } = workerData;
const instantiate = (m) => new WebAssembly.Instance(module, { env: { memory: m } }).exports.run;
const own = instantiate(memory);
let run = own, gen = 0, seen = 0;
// a temporary memory arrives on the port before the job that uses it (older ones are skipped)
const useMemory = (g) => {
  if (g === 0) run = own;
  else {
    let m;
    do m = receiveMessageOnPort(port); while (m && m.message.gen !== g);
    if (!m) throw new Error('xs threads: memory ' + g + ' not received');
    run = instantiate(m.message.memory);
  }
  gen = g;
};
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(ctrl, ${SEQ}, seen);
  seen = Atomics.load(ctrl, ${SEQ});
  if (Atomics.load(ctrl, ${STOP}) !== 0) break;
  const tag = seen & 0x7fff;
  for (;;) {
    const w = Atomics.load(ctrl, ${CLAIM});
    if (w >>> 16 !== tag || (w & 0xffff) === 0) break;
    if (Atomics.compareExchange(ctrl, ${CLAIM}, w, w - 1) !== w) continue;
    const r = ${RANGES} + 4 * ((w & 0xffff) - 1);
    try {
      if (ctrl[${GEN}] !== gen) useMemory(ctrl[${GEN}]);
      const a = ctrl[${AREA}] * id;
      run(ctrl[r], ctrl[r + 1], ctrl[r + 2], ctrl[r + 3], ctrl[${K_}], ctrl[${KC_MAX}], ctrl[${MC_}], ctrl[${NC_}],
        ctrl[${RA}], ctrl[${SAM}], ctrl[${SAK}], ctrl[${RB}], ctrl[${SBK}], ctrl[${SBN}], ctrl[${PC}], ctrl[${LDC}],
        a + ctrl[${PA}], a + ctrl[${PB}], a, ctrl[${LA}] && a + ctrl[${LA}], ctrl[${LB}] && a + ctrl[${LB}]);
    } catch (e) {
      Atomics.store(ctrl, ${ERROR}, 1);
    }
    Atomics.add(ctrl, ${WORKER_CHUNKS}, 1);
    if (Atomics.add(ctrl, ${DONE}, 1) + 1 === ctrl[${N_CHUNKS}]) Atomics.notify(ctrl, ${DONE});
  }
  if (gen !== 0) useMemory(0); // let a temporary memory go
}
`;

/** Counters of the matmul thread pool since it started (for tests and benchmarks). */
export interface MatmulThreadStats {
  /** Products split between threads. */
  runs: number;
  /** Chunks (parts of C) computed, by all threads. */
  chunks: number;
  /** Chunks computed by the worker threads (the rest by the calling thread). */
  workerChunks: number;
}
type ThreadStats = MatmulThreadStats;

/** The kernel instantiated on one of the pool's memories. */
interface PoolInstance {
  run: RunFn;
  /** kernel.ts's allFinite, where the kernel skips zeros. */
  allFinite?: (p: number, n: number) => number;
}

/** A started pool: `threads` participants, the calling thread (number 0) and threads - 1 workers. */
export class SgemmPool {
  private readonly ctrl: Int32Array;
  private memory: SharedMemory;
  private heap: Float32Array;
  private readonly own: PoolInstance;
  /** Which operands' zero slices to list, per product (as the single-threaded kernel decides). */
  readonly skipping: ZeroSkipping;
  private readonly workers: NodeWorker[] = [];
  private readonly ports: NodePort[] = [];
  private seq = 0;
  private gen = 0;
  private runs = 0;
  private chunks = 0;
  /** Workers that have instantiated the kernel and wait for jobs. */
  readyWorkers = 0;
  /** Set when a worker failed (its kernel threw, or it exited): the pool is then not used again. */
  broken = false;
  readonly ready: Promise<void>;

  constructor(
    wt: WorkerThreads,
    private readonly api: WasmApi,
    private readonly module: object,
    readonly threads: number,
    /** The kernel config (the single-threaded kernel's, so that the sums are the same). */
    readonly cfg: SgemmConfig,
  ) {
    this.skipping = new ZeroSkipping(cfg);
    this.ctrl = new Int32Array(new SharedArrayBuffer(CTRL_SLOTS * 4));
    this.memory = new api.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    this.heap = new Float32Array(this.memory.buffer);
    this.own = this.instantiate(this.memory);
    const ready: Promise<void>[] = [];
    for (let id = 1; id < threads; id++) {
      const { port1, port2 } = new wt.MessageChannel();
      const worker = new wt.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory: this.memory, ctrl: this.ctrl, port: port2, id },
        transferList: [port2],
      });
      port1.unref();
      this.workers.push(worker);
      this.ports.push(port1);
      // referenced until it is ready (so that a process awaiting `ready` stays alive), then unref'd: an idle
      // pool never keeps a process from exiting
      ready.push(
        new Promise<void>((resolve) => {
          worker.on('message', (m) => {
            if (m !== 'ready') return;
            this.readyWorkers++;
            worker.unref();
            resolve();
          });
          worker.on('error', () => {
            this.broken = true;
            worker.unref();
            resolve();
          });
          worker.on('exit', () => {
            if (Atomics.load(this.ctrl, STOP) === 0) this.broken = true;
            resolve();
          });
        }),
      );
    }
    this.ready = Promise.all(ready).then(() => undefined);
  }

  private instantiate(memory: SharedMemory): PoolInstance {
    const { exports } = new this.api.Instance(this.module, { env: { memory } });
    return { run: exports['run'] as RunFn, allFinite: exports['allFinite'] as PoolInstance['allFinite'] };
  }

  /** Counters since the pool started. */
  get stats(): ThreadStats {
    return { runs: this.runs, chunks: this.chunks, workerChunks: Atomics.load(this.ctrl, WORKER_CHUNKS) };
  }

  /** Whether products go to this pool: some worker is ready and none has failed. */
  get usable(): boolean {
    return this.readyWorkers > 0 && !this.broken;
  }

  /**
   * C[cOff + i·N + j] = Σ_k A[aOff + i·sAm + k·sAk] · B[bOff + k·sBk + j·sBn], split between the threads, bit
   * for bit as Sgemm.run computes it. Returns false, having written nothing, when the product cannot be split
   * usefully (fewer than two chunks), needs more memory than wasm can have or get, or a worker failed.
   */
  run(
    M: number, N: number, K: number,
    A: Float32Array, aOff: number, sAm: number, sAk: number,
    B: Float32Array, bOff: number, sBk: number, sBn: number,
    C: Float32Array, cOff: number,
  ): boolean {
    const { MR, MC, NC, NV } = this.cfg;
    // split the larger of M and N: each chunk packs all of the other operand's block again
    const splitM = M >= N;
    const dim = splitM ? M : N;
    // rows: a multiple of the micro-tile's MR; columns: of NR and of a cache line (no false sharing of C)
    const align = splitM ? MR : lcm(4 * NV, 16);
    const minChunk = splitM ? 16 : 48;
    const want = Math.min(CHUNKS_PER_THREAD * this.threads, MAX_CHUNKS, Math.floor(dim / minChunk));
    if (want < 2) return false;
    const size = Math.ceil(Math.ceil(dim / want) / align) * align;
    const nChunks = Math.ceil(dim / size);
    if (nChunks < 2) return false;

    const considered = this.skipping.considers(M, N, K);
    const L = sgemmLayout(this.cfg, M, N, K, sAm, sAk, sBk, sBn, this.threads, considered);
    if (L.bytes > MAX_BYTES) return false;
    let memory = this.memory;
    let inst = this.own;
    let gen = 0;
    try {
      if (L.bytes > RETAIN_BYTES) {
        // a temporary shared memory for this product only, handed to each worker before the job
        const pages = Math.ceil(L.bytes / PAGE);
        memory = new this.api.Memory({ initial: pages, maximum: pages, shared: true });
        inst = this.instantiate(memory);
        gen = ++this.gen;
        for (const port of this.ports) port.postMessage({ gen, memory });
      } else if (L.bytes > this.memory.buffer.byteLength) {
        this.memory.grow(Math.ceil((L.bytes - this.memory.buffer.byteLength) / PAGE));
      }
    } catch {
      return false; // memory not available (RangeError)
    }
    // (a grown shared memory keeps its old views valid, at their old length: view it anew)
    if (gen === 0 && this.heap.byteLength < L.bytes) this.heap = new Float32Array(memory.buffer);
    const heap = gen === 0 ? this.heap : new Float32Array(memory.buffer);
    heap.set(A.subarray(aOff, aOff + L.aLen), L.ra >> 2);
    heap.set(B.subarray(bOff, bOff + L.bLen), L.rb >> 2);
    const skip = this.skipping.stateOf(M, N, K, sAm, sAk, sBk, sBn);
    const lists = considered && inst.allFinite ? this.skipping.choose(skip, L, inst.allFinite) : undefined;
    const la = lists?.la ?? 0;
    const lb = lists?.lb ?? 0;

    const ctrl = this.ctrl;
    for (let c = 0; c < nChunks; c++) {
      const lo = c * size;
      const hi = Math.min(dim, lo + size);
      const r = RANGES + 4 * c;
      ctrl[r] = splitM ? lo : 0;
      ctrl[r + 1] = splitM ? hi : M;
      ctrl[r + 2] = splitM ? 0 : lo;
      ctrl[r + 3] = splitM ? N : hi;
    }
    const params: [number, number][] = [
      [GEN, gen], [N_CHUNKS, nChunks], [AREA, L.area], [PB, L.pb], [PA, L.pa], [K_, K], [KC_MAX, L.kcMax],
      [MC_, MC], [NC_, NC], [RA, L.ra], [SAM, sAm * 4], [SAK, sAk * 4], [RB, L.rb], [SBK, sBk * 4],
      [SBN, sBn * 4], [PC, L.pc], [LDC, N * 4], [LB, lb], [LA, la],
    ];
    for (const [slot, v] of params) ctrl[slot] = v;
    Atomics.store(ctrl, DONE, 0);
    // publishing: the claim word last but one (workers read the parameters only after claiming a chunk),
    // then the job number that wakes them
    this.seq = (this.seq + 1) | 0;
    Atomics.store(ctrl, CLAIM, ((this.seq & 0x7fff) << 16) | nChunks);
    Atomics.store(ctrl, SEQ, this.seq);
    Atomics.notify(ctrl, SEQ);

    // the calling thread claims chunks like any worker (area 0)...
    const tag = this.seq & 0x7fff;
    for (;;) {
      const w = Atomics.load(ctrl, CLAIM);
      if (w >>> 16 !== tag || (w & 0xffff) === 0) break;
      if (Atomics.compareExchange(ctrl, CLAIM, w, w - 1) !== w) continue;
      const r = RANGES + 4 * ((w & 0xffff) - 1);
      inst.run(ctrl[r]!, ctrl[r + 1]!, ctrl[r + 2]!, ctrl[r + 3]!, K, L.kcMax, MC, NC, L.ra, sAm * 4, sAk * 4, L.rb, sBk * 4, sBn * 4, L.pc, N * 4, L.pa, L.pb, 0, la, lb);
      Atomics.add(ctrl, DONE, 1);
    }
    // ...then waits for the chunks the workers took
    for (;;) {
      const d = Atomics.load(ctrl, DONE);
      if (d === nChunks) break;
      Atomics.wait(ctrl, DONE, d);
    }
    this.runs++;
    this.chunks += nChunks;
    if (Atomics.load(ctrl, ERROR) !== 0) {
      this.broken = true;
      return false;
    }
    C.set(heap.subarray(L.pc >> 2, (L.pc >> 2) + M * N), cOff);
    // (area 0's lists: those of the calling thread's last chunk)
    if (lists) this.skipping.learn(skip, la, lb, new Int32Array(heap.buffer), M, N, K, L.kcMax);
    return true;
  }

  /** Stop the workers (they exit their loop) and wait until they are gone. */
  async close(): Promise<void> {
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
    for (const p of this.ports) p.close();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function lcm(a: number, b: number): number {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  return (a / gcd(a, b)) * b;
}

let pool: SgemmPool | undefined;
let starting: Promise<SgemmPool | undefined> | undefined;
/** Set when threads turned out to be unavailable here (no worker_threads, no shared memory...). */
let unavailable = false;

// hidden from bundlers, which would otherwise try to resolve (or polyfill) Node's modules for the browser
const NODE_WORKER_THREADS = 'node:worker_threads';
const NODE_OS = 'node:os';

async function createPool(cfg: SgemmConfig): Promise<SgemmPool | undefined> {
  try {
    const api = wasmApi();
    if (!api || typeof SharedArrayBuffer === 'undefined' || typeof Atomics?.wait !== 'function') return undefined;
    const wt = (await import(/* @vite-ignore */ NODE_WORKER_THREADS)) as WorkerThreads;
    let threads = matmulThreads.threads;
    if (threads === undefined) {
      const os = (await import(/* @vite-ignore */ NODE_OS)) as { availableParallelism?: () => number; cpus: () => unknown[] };
      threads = Math.min(os.availableParallelism?.() ?? os.cpus().length, 4);
    }
    if (threads < 2) return undefined; // one core
    const module = new api.Module(gemmModuleBytes(cfg, MAX_PAGES));
    const p = new SgemmPool(wt, api, module, threads, cfg);
    await p.ready;
    return p;
  } catch {
    return undefined; // no worker_threads, no shared wasm memory, or SIMD: single-threaded
  }
}

/**
 * Start the pool (once; later calls return the same promise) and resolve when its workers are ready: with
 * the pool, or undefined where threads are off or unavailable. matmul starts it by itself on the first
 * product of at least `matmulThreads.minWork` and runs single-threaded until it is ready; tests and
 * benchmarks await this to measure the threaded kernel from the first product. A pool for another kernel
 * config than the single-threaded kernel's now is stopped, and a new one started.
 */
export function startThreads(): Promise<SgemmPool | undefined> {
  const cfg = sharedSgemm()?.cfg;
  if (pool && pool.cfg !== cfg) {
    void pool.close();
    pool = undefined;
  }
  if (pool) return Promise.resolve(pool);
  if (unavailable || !threadsWanted() || !cfg) return Promise.resolve(undefined);
  starting ??= createPool(cfg).then((p) => {
    starting = undefined;
    if (p) pool = p;
    else unavailable = true;
    return p;
  });
  return starting;
}

/**
 * The pool for a float32 product of M·N·K = `work` on the kernel config `cfg`, when it is worth splitting
 * and the pool is ready for that config; otherwise undefined (and, for a product big enough, the start of
 * a pool for the current config is set going).
 */
export function sgemmPool(work: number, cfg: SgemmConfig): SgemmPool | undefined {
  if (work < matmulThreads.minWork || !threadsWanted()) return undefined;
  if (pool?.cfg === cfg) return pool.usable ? pool : undefined;
  if (!starting) void startThreads();
  return undefined;
}

/** False when matmulThreads.threads (XS_THREADS) turns threads off. */
function threadsWanted(): boolean {
  return matmulThreads.threads === undefined || matmulThreads.threads >= 2;
}

/**
 * Start the matmul thread pool now rather than at the first large product, and wait until its workers are
 * ready. Resolves to the number of threads that large products will use (1 where threads are off or
 * unavailable).
 *
 * @example
 * import { startMatmulThreads } from '@xs/tensor';
 * const threads = await startMatmulThreads(); // e.g. 2 on a 2-core machine
 */
export async function startMatmulThreads(): Promise<number> {
  return (await startThreads())?.threads ?? 1;
}

/**
 * Stop the matmul thread pool's workers and wait for them to exit (an idle pool never keeps a process
 * alive, so this is not needed before exiting). The next large product starts a new pool.
 *
 * @example
 * import { stopMatmulThreads } from '@xs/tensor';
 * await stopMatmulThreads();
 */
export function stopMatmulThreads(): Promise<void> {
  return shutdownThreads();
}

/**
 * Counters of the matmul thread pool (all zero when none is running).
 *
 * @example
 * import { matmulThreadStats } from '@xs/tensor';
 * const { runs, workerChunks } = matmulThreadStats();
 */
export function matmulThreadStats(): MatmulThreadStats {
  return threadStats();
}

/** The running pool's counters (zeros when there is none). */
export function threadStats(): ThreadStats {
  return pool ? pool.stats : { runs: 0, chunks: 0, workerChunks: 0 };
}

/** Stop the pool's workers and wait for them to exit; a later big product starts a new pool. */
export async function shutdownThreads(): Promise<void> {
  const p = pool ?? (await starting);
  pool = undefined;
  unavailable = false;
  await p?.close();
}
