/**
 * The WebAssembly code of the float32 matmul, generated with encoder.ts. Four exported functions (six where the
 * kernel skips zeros); sgemm.ts copies the operands into the module's memory and calls `run` (threads.ts
 * calls it on parts of C from several threads over one shared memory):
 *
 *   packA / packB(dst, src, n, kc, sW, sK)   copy a strided block of A / B into panels (see buildPack)
 *   scan(p, panels, kc, list, W)             list each packed panel's nonzero k slices (see buildScan)
 *   allFinite(p, n)                          whether n floats are all finite (see buildAllFinite)
 *   gemm(mc, nc, kc, pa, pb, pc, ldc, first, sp, la, lb)
 *                                            C[i, j] (+)= Σ_{k<kc} Apack[i, k] · Bpack[k, j]  (i < mc, j < nc)
 *                                            (= for the first K block, first = 1; += for the others;
 *                                            sp: MR·NR·4 bytes of scratch for edge tiles; la, lb: the A
 *                                            and B panels' lists, or 0 not to skip zeros)
 *   run(m0, m1, n0, n1, K, kcMax, MC, NC, ra, sAm, sAk, rb, sBk, sBn, pc, ldc, pa, pb, sp, la, lb)
 *                                            the block loops over C[m0..m1, n0..n1) (see buildRun)
 * (all arguments i32; pointers and strides in bytes)
 *
 * Packed layouts (float32; the last panel of each is zero-padded, so the micro-kernel always computes full
 * tiles):
 *   A: panels of MR rows, panel p at pa + p·MR·kc·4, holding A[p·MR + r, k] at index k·MR + r
 *      (for each k, the MR values of one column of the panel, side by side)
 *   B: panels of NR = 4·NV columns, panel q at pb + q·NR·kc·4, holding B[k, q·NR + c] at index k·NR + c
 *      (for each k, NV four-lane vectors: one row of the panel)
 *   C: row-major with a row stride of ldc bytes; only the valid mc × nc part is written.
 *
 * The micro-kernel. For each NR-wide B panel and each MR-tall A panel it keeps an MR × NR tile of C in MR·NV
 * f32x4 registers and, for every k, loads the NV vectors of B's row k, then for each of the MR rows
 * broadcasts A[r, k] to all four lanes (v128.load32_splat) and does acc[r][v] += a · b[v]: with f32x4.mul
 * then f32x4.add (SIMD128 only: the product is rounded, then the sum), or, with `fma`, relaxed SIMD's
 * f32x4.relaxed_madd (vfmadd on x64 with FMA, fmla on arm64: one instruction, one rounding; on by default in
 * Node 22+ and current browsers, behind a V8 flag in Node 20: sgemm.ts picks the kernel). A full tile is then
 * stored into C (first K block) or added to it with v128 loads/stores; an edge tile (the last rows or columns)
 * is spilled to a scratch area (`sp`, one per thread) and its valid part stored / added one float at a time.
 *
 * Register budget and tile shape: x64 gives V8 16 XMM registers, one kept as scratch, so MR·NV accumulators
 * + NV B vectors + the broadcast A value (+ a product, mul + add only) must fit in 15. Measured (kernel
 * alone, Zen 5, Node 20, one thread; GFLOP/s at 100×60×784 A·Bᵀ, 60×784×100 Aᵀ·B, 100×120×784 A·Bᵀ, 256³,
 * 1024³):
 *   mul + add: 2 × 12 (6 accumulators): 40, 40, 41, 42, 42 (earlier, on a quieter machine: 2×12 and 3×8 at
 *     45–47, 4×8 and 2×16 at 44, 5×8 at 39 from spills). 2×12 packs with SIMD (packing wants 2 or a multiple
 *     of 4 rows) and its 12 columns divide the MLP's 60.
 *   fma: 2×12: 39, 39, 39, 40, 40 (six accumulator chains are too few: the FMA's latency, 4 cycles, is on each
 *     chain, where with mul + add only the add's is); 4×8 (8 accumulators + 2 B vectors + 1 broadcast = 11
 *     registers): 43, 47, 47, 49, 49; 2×16: 38–42, 47, 42–44, 51, 49; 4×12: 25 (16 registers: spills); 8×4:
 *     21 (one B vector per 8 broadcasts). 4×8 is the FMA tile: best at the MLP's A·Bᵀ shapes, within 3% of
 *     2×16 elsewhere.
 * The K loop is not unrolled: V8 hoists the loads of an unrolled body ahead of the arithmetic, which needs
 * more registers and spilled (4×8 unrolled 4× ran at 25 GFLOP/s); TurboFan's own loop peeling already leaves
 * the plain loop with nothing but loads, mul/add (or FMA) and three integer ops per k.
 */
import { Body, encodeModule, i32, v128, type ValType } from './encoder.js';

export interface KernelShape {
  /** Rows of the micro-tile (A panel height). */
  MR: number;
  /** f32x4 vectors per row of the micro-tile: the tile is NR = 4·NV columns wide (B panel width). */
  NV: number;
  /**
   * acc += a·b with relaxed SIMD's f32x4.relaxed_madd (one instruction, one rounding on x64 with FMA) instead of
   * f32x4.mul then f32x4.add. The module then validates only where the engine has relaxed SIMD.
   */
  fma?: boolean;
}

/** Bytes of edge-tile scratch a caller reserves per thread (sgemm.ts: at address 0). */
export const SCRATCH_BYTES = 1024;

/**
 * gemm(mc, nc, kc, pa, pb, pc, ldc, first, sp, la, lb), in JS-like pseudo-code (pointers in bytes, loads as in wasm):
 *
 *   for (jr = 0; jr < nc; jr += NR)                      // each B panel
 *     for (ir = 0; ir < mc; ir += MR) {                  // each A panel
 *       acc[0..MR)[0..NV) = 0
 *       a = pa + ir·kc·4;  b = pb + jr·kc·4
 *       do {                                             // kc times
 *         bv[v] = v128.load(b + 16v)                     // B[k, jr+4v .. jr+4v+3]
 *         for r:  s = v128.load32_splat(a + 4r)          // A[ir+r, k] ×4
 *                 for v:  acc[r][v] = f32x4.add(acc[r][v], f32x4.mul(s, bv[v]))
 *                         (fma: acc[r][v] = f32x4.relaxed_madd(s, bv[v], acc[r][v]))
 *         a += MR·4;  b += NR·4
 *       } while (a < aEnd)
 *       c = pc + ir·ldc + jr·4
 *       if (full tile)  for r, v:  C[c + r·ldc + 16v] = acc[r][v]  (first)  or  += acc[r][v]  (v128 ops)
 *       else            scratch = acc; store / add scratch's valid mr × nr part into C one float at a time
 *     }
 * (The loops over MR, NV and v are unrolled by the generator: acc, bv and s are plain wasm locals.)
 *
 * Skipping zeros (kernels whose panels are one or two f32x4 vectors wide, see skipsZeros; la or lb ≠ 0): run
 * has listed, for each packed panel of A (la) and/or B (lb), the k whose slice of the panel holds a nonzero bit
 * (see buildScan). A tile whose A panel has zero slices then loops over that panel's list instead of every k
 * (k ascending, as the dense loop: the products it leaves out are 0·b, and the sums keep their order); likewise
 * with the B panel's list; the shorter list wins. The caller lists a side only where the other operand is
 * finite (allFinite: 0·∞ and 0·NaN are NaN, which skipping would lose). The results are the dense loop's bit
 * for bit, but for the sign of an exactly zero sum in one corner case: with fused multiply-adds, a product that
 * underflows to -0 can leave an accumulator at -0, which adding a skipped +0 product would have turned into +0.
 * Images are mostly zeros (MNIST 81%, Fashion-MNIST 50% of pixels): in the seed MLP's products with a batch of
 * images, 61% (MNIST) and 21-28% (Fashion-MNIST) of the panel slices are zero.
 */
function buildGemm({ MR, NV, fma = false }: KernelShape): Body {
  const NR = 4 * NV;
  const f = new Body([i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32]);
  const [mc, nc, kc, pa, pb, pc, ldc, first, sp, la, lb] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const skips = skipsZeros({ MR, NV });
  const jr = f.local(i32); // column of the current B panel
  const ir = f.local(i32); // row of the current A panel
  const a = f.local(i32); // read pointer in the A panel
  const aEnd = f.local(i32);
  const b = f.local(i32); // read pointer in the B panel
  const c = f.local(i32); // address of the tile's current row in C
  const mr = f.local(i32); // valid rows / columns of an edge tile
  const nr = f.local(i32);
  const r = f.local(i32);
  const col = f.local(i32);
  const p = f.local(i32);
  const acc: number[][] = [];
  for (let rr = 0; rr < MR; rr++) acc.push(Array.from({ length: NV }, () => f.local(v128)));
  const bv = Array.from({ length: NV }, () => f.local(v128));
  const s = f.local(v128);
  const lst = f.local(i32); // the list of k the tile loops over (0: every k)
  const lEnd = f.local(i32);
  const k = f.local(i32);
  const kb = f.local(i32); // B's row k
  const cA = f.local(i32); // length of the A / B panel's list if the tile may use it, else kc
  const cB = f.local(i32);
  const pA = f.local(i32); // the A / B panel's list
  const pB = f.local(i32);
  /** acc += the products of one k's slices: B's row at the address `bAt` pushes, A's column at `aAt`'s. */
  const multiplyAdd = (bAt: () => void, aAt: () => void): void => {
    for (let v = 0; v < NV; v++) {
      bAt();
      f.v128Load(16 * v).set(bv[v]!);
    }
    for (let rr = 0; rr < MR; rr++) {
      // s = A[rr, k] in all lanes; acc[rr][v] += s · B[k, 4v .. 4v+3]
      aAt();
      f.v128Load32Splat(4 * rr).set(s);
      for (let v = 0; v < NV; v++) {
        if (fma) f.get(s).get(bv[v]!).get(acc[rr]![v]!).simdOp('f32x4.relaxed_madd').set(acc[rr]![v]!);
        else f.get(acc[rr]![v]!).get(s).get(bv[v]!).f32x4Mul().f32x4Add().set(acc[rr]![v]!);
      }
    }
  };

  // for (jr = 0; jr < nc; jr += NR)    (do-while: nc > 0)
  f.i32(0).set(jr);
  f.loop();
  {
    // for (ir = 0; ir < mc; ir += MR)
    f.i32(0).set(ir);
    f.loop();
    {
      for (const row of acc) for (const x of row) f.v128Zero().set(x);
      // a = pa + ir·kc·4 (A panel ir/MR), aEnd = a + kc·MR·4, b = pb + jr·kc·4 (B panel jr/NR)
      f.get(pa).get(ir).get(kc).mul().i32(4).mul().add().tee(a);
      f.get(kc).i32(MR * 4).mul().add().set(aEnd);
      f.get(pb).get(jr).get(kc).mul().i32(4).mul().add().set(b);
      f.i32(0).set(lst);
      if (skips) {
        // which list, if any: the shorter of the A and B panels' (run lists a side only where the other operand
        // is finite, see Sgemm.run)
        f.get(la).get(lb).or();
        f.if();
        {
          // the panels' lists: [count, k...] at la + (ir/MR)·listBytes(kc) and lb + (jr/NR)·listBytes(kc)
          f.get(la).get(ir).i32(MR).divU().get(kc).i32(1).add().mul().i32(4).mul().add().set(pA);
          f.get(lb).get(jr).i32(NR).divU().get(kc).i32(1).add().mul().i32(4).mul().add().set(pB);
          f.get(pA).i32Load().get(kc).get(la).select().set(cA); // la ? A's count : kc
          f.get(pB).i32Load().get(kc).get(lb).select().set(cB);
          f.get(cA).get(kc).ltS().get(cA).get(cB).leS().and();
          f.if();
          f.get(pA).i32(4).add().set(lst);
          f.get(lst).get(cA).i32(4).mul().add().set(lEnd);
          f.else();
          f.get(cB).get(kc).ltS();
          f.if();
          f.get(pB).i32(4).add().set(lst);
          f.get(lst).get(cB).i32(4).mul().add().set(lEnd);
          f.end();
          f.end();
        }
        f.end();
      }
      f.get(lst).eqz();
      f.if();
      {
        // the K loop: one k per iteration (kc > 0)
        f.loop();
        {
          // B row k: NV vectors; A column k: MR values
          multiplyAdd(() => f.get(b), () => f.get(a));
          f.get(b).i32(NR * 4).add().set(b);
          f.get(a).i32(MR * 4).add().tee(a);
          f.get(aEnd).ltU().brIf(0);
        }
        f.end();
      }
      if (skips) {
        f.else();
        // the listed k only (none: the tile's sums are all zero)
        f.get(lst).get(lEnd).ltU();
        f.if();
        f.loop();
        {
          f.get(lst).i32Load().set(k);
          f.get(b).get(k).i32(NR * 4).mul().add().set(kb);
          f.get(a).get(k).i32(MR * 4).mul().add().set(k); // (k: now A's column k)
          multiplyAdd(() => f.get(kb), () => f.get(k));
          f.get(lst).i32(4).add().tee(lst);
          f.get(lEnd).ltU().brIf(0);
        }
        f.end();
        f.end();
      }
      f.end();

      // c = pc + ir·ldc + jr·4; rows and columns left: mr = mc - ir, nr = nc - jr
      f.get(pc).get(ir).get(ldc).mul().add().get(jr).i32(4).mul().add().set(c);
      f.get(mc).get(ir).sub().set(mr);
      f.get(nc).get(jr).sub().set(nr);
      f.get(mr).i32(MR).geS().get(nr).i32(NR).geS().and();
      f.if();
      {
        // full tile: C[row] = acc[row] for the first K block, else C[row] += acc[row] (NV vectors per row)
        f.get(first);
        f.if();
        for (let rr = 0; rr < MR; rr++) {
          for (let v = 0; v < NV; v++) f.get(c).get(acc[rr]![v]!).v128Store(16 * v);
          if (rr < MR - 1) f.get(c).get(ldc).add().set(c);
        }
        f.else();
        for (let rr = 0; rr < MR; rr++) {
          for (let v = 0; v < NV; v++) f.get(c).get(c).v128Load(16 * v).get(acc[rr]![v]!).f32x4Add().v128Store(16 * v);
          if (rr < MR - 1) f.get(c).get(ldc).add().set(c);
        }
        f.end();
      }
      f.else();
      {
        // edge tile: spill the accumulators to scratch[rr·NR + j] at sp, then add the valid part
        for (let rr = 0; rr < MR; rr++) for (let v = 0; v < NV; v++) f.get(sp).get(acc[rr]![v]!).v128Store((rr * NR + 4 * v) * 4);
        // mr = min(mr, MR), nr = min(nr, NR)
        f.get(mr).i32(MR).get(mr).i32(MR).ltS().select().set(mr);
        f.get(nr).i32(NR).get(nr).i32(NR).ltS().select().set(nr);
        f.i32(0).set(r);
        f.loop(); // for (r = 0; r < mr; r++)
        {
          f.i32(0).set(col);
          f.loop(); // for (col = 0; col < nr; col++)  C[c + col·4] = (first ? 0 : C[c + col·4]) + scratch[r·NR + col]
          {
            f.get(c).get(col).i32(4).mul().add().tee(p);
            f.get(r).i32(NR).mul().get(col).add().i32(4).mul().get(sp).add().f32Load();
            f.get(p).f32Load().f32Zero().get(first).eqz().select(); // first ? 0 : C[c + col·4]
            f.f32Add().f32Store();
            f.get(col).i32(1).add().tee(col).get(nr).ltS().brIf(0);
          }
          f.end();
          f.get(c).get(ldc).add().set(c);
          f.get(r).i32(1).add().tee(r).get(mr).ltS().brIf(0);
        }
        f.end();
      }
      f.end();

      f.get(ir).i32(MR).add().tee(ir).get(mc).ltS().brIf(0);
    }
    f.end();
    f.get(jr).i32(NR).add().tee(jr).get(nc).ltS().brIf(0);
  }
  f.end();
  return f;
}

/**
 * pack(dst, src, n, kc, sW, sK)   (i32; dst, src, sW, sK in bytes)
 *   Copies n "rows" w × kc values k of a strided float32 source, element (w, k) at src + w·sW + k·sK, into
 *   panels of W rows: panel p at dst + p·W·kc·4 holds element (p·W + i, k) at index k·W + i, with zeros in
 *   the rows past n. Packing A uses W = MR (rows of A); packing B uses W = NR (columns of B as the rows).
 * The full panels take one of two SIMD paths (W is 2 or a multiple of 4):
 *   - sW = 4 (the W values of one k are adjacent, e.g. B row-major, or A stored transposed): for each k, copy
 *     W values into every panel (vector copies; k outermost, so the source is read in order even when its
 *     rows are a power-of-two bytes apart, which would otherwise thrash one cache set);
 *   - sK = 4 (each row is contiguous along k, e.g. A row-major, B stored transposed): panel by panel, 4 k
 *     at a time, load 4 vectors from 4 rows and transpose the 4×4 block with shuffles (2 rows: interleave).
 * The last, partial panel (and any other strides) is copied value by value.
 */
function buildPack(W: number): Body {
  const f = new Body([i32, i32, i32, i32, i32, i32]);
  const [dst, src, n, kc, sW, sK] = [0, 1, 2, 3, 4, 5];
  const full = f.local(i32); // rows in full panels: W·floor(n / W) (0 if no SIMD path applies)
  const p = f.local(i32); // first row of the current panel
  const sp = f.local(i32); // src address of the panel's first row
  const d = f.local(i32); // write pointer
  const q = f.local(i32);
  const k = f.local(i32);
  const koff = f.local(i32); // k·4
  const kEnd = f.local(i32);
  const rows = Array.from({ length: W }, () => f.local(i32)); // address of each row of the panel
  const x = Array.from({ length: 4 }, () => f.local(v128));
  const t = Array.from({ length: 4 }, () => f.local(v128));
  const panelBytes = (): Body => f.get(kc).i32(4 * W).mul(); // pushes W·kc·4

  // full = n - n mod W
  f.get(n).get(n).i32(W).remU().sub().set(full);
  f.get(sW).i32(4).eq().get(full).i32(0).ne().and();
  f.if();
  {
    // ---- sW = 4: for each k (row q of the source), copy W adjacent values into each full panel
    f.get(src).set(q);
    f.get(dst).set(koff); // (koff: address of value k in panel 0)
    f.get(kc).set(k);
    f.loop();
    {
      f.get(koff).set(d);
      f.i32(0).set(p);
      f.loop();
      {
        // panel p: dst + p/W·panelBytes + k·W·4  ←  q + p·4
        f.get(q).get(p).i32(4).mul().add().set(sp);
        if (W === 2) f.get(d).get(sp).i64Load().i64Store();
        for (let g = 0; g < Math.floor(W / 4); g++) f.get(d).get(sp).v128Load(16 * g).v128Store(16 * g);
        f.get(d).emit(panelBytes).add().set(d);
        f.get(p).i32(W).add().tee(p).get(full).ltU().brIf(0);
      }
      f.end();
      f.get(q).get(sK).add().set(q);
      f.get(koff).i32(4 * W).add().set(koff);
      f.get(k).i32(1).sub().tee(k).brIf(0);
    }
    f.end();
  }
  f.else();
  {
    f.get(sK).i32(4).eq().get(full).i32(0).ne().and();
    f.if();
    {
      // ---- sK = 4: panel by panel, transposing 4 k at a time
      f.i32(0).set(p);
      f.loop();
      {
        f.get(src).get(p).get(sW).mul().add().set(sp);
        for (let i = 0; i < W; i++) f.get(sp).get(sW).i32(i).mul().add().set(rows[i]!);
        f.get(dst).get(p).i32(W).divU().emit(panelBytes).mul().add().set(d);
        f.i32(0).set(koff);
        f.get(kc).i32(-4).and().i32(4).mul().set(kEnd); // (kc rounded down to a multiple of 4)·4
        f.block();
        f.loop();
        {
          f.get(koff).get(kEnd).geS().brIf(1);
          if (W === 2) {
            // x0 = row 0, k .. k+3; x1 = row 1: interleave to (x0[0] x1[0] x0[1] x1[1]), (x0[2] x1[2] x0[3] x1[3])
            for (let i = 0; i < 2; i++) f.get(rows[i]!).get(koff).add().v128Load().set(x[i]!);
            f.get(d).get(x[0]!).get(x[1]!).shuffle32([0, 4, 1, 5]).v128Store(0);
            f.get(d).get(x[0]!).get(x[1]!).shuffle32([2, 6, 3, 7]).v128Store(16);
          }
          for (let g = 0; g < Math.floor(W / 4); g++) {
            // x[i] = row 4g+i, k .. k+3
            for (let i = 0; i < 4; i++) f.get(rows[4 * g + i]!).get(koff).add().v128Load().set(x[i]!);
            // t0 = x0[0] x1[0] x0[1] x1[1], t1 = x2[0] x3[0] x2[1] x3[1], t2, t3: the same for lanes 2, 3
            f.get(x[0]!).get(x[1]!).shuffle32([0, 4, 1, 5]).set(t[0]!);
            f.get(x[2]!).get(x[3]!).shuffle32([0, 4, 1, 5]).set(t[1]!);
            f.get(x[0]!).get(x[1]!).shuffle32([2, 6, 3, 7]).set(t[2]!);
            f.get(x[2]!).get(x[3]!).shuffle32([2, 6, 3, 7]).set(t[3]!);
            // column j of the block (x0[j] x1[j] x2[j] x3[j]) goes to k+j, rows 4g .. 4g+3
            f.get(d).get(t[0]!).get(t[1]!).shuffle32([0, 1, 4, 5]).v128Store((0 * W + 4 * g) * 4);
            f.get(d).get(t[0]!).get(t[1]!).shuffle32([2, 3, 6, 7]).v128Store((1 * W + 4 * g) * 4);
            f.get(d).get(t[2]!).get(t[3]!).shuffle32([0, 1, 4, 5]).v128Store((2 * W + 4 * g) * 4);
            f.get(d).get(t[2]!).get(t[3]!).shuffle32([2, 3, 6, 7]).v128Store((3 * W + 4 * g) * 4);
          }
          f.get(koff).i32(16).add().set(koff);
          f.get(d).i32(16 * W).add().set(d);
          f.br(0);
        }
        f.end();
        f.end();
        // the last kc mod 4 values of k
        f.get(kc).i32(4).mul().set(kEnd);
        f.block();
        f.loop();
        {
          f.get(koff).get(kEnd).geS().brIf(1);
          for (let i = 0; i < W; i++) f.get(d).get(rows[i]!).get(koff).add().f32Load().f32Store(4 * i);
          f.get(koff).i32(4).add().set(koff);
          f.get(d).i32(4 * W).add().set(d);
          f.br(0);
        }
        f.end();
        f.end();
        f.get(p).i32(W).add().tee(p).get(full).ltU().brIf(0);
      }
      f.end();
    }
    f.else();
    f.i32(0).set(full); // no SIMD path: every panel below
    f.end();
  }
  f.end();

  // ---- the remaining panels (rows full .. n), value by value, zeros past the last row
  f.get(full).set(p);
  f.block();
  f.loop();
  {
    f.get(p).get(n).geU().brIf(1);
    f.get(src).get(p).get(sW).mul().add().set(q);
    f.get(dst).get(p).i32(W).divU().emit(panelBytes).mul().add().set(d);
    f.get(kc).set(k);
    f.loop();
    {
      for (let i = 0; i < W; i++) {
        // row p + i < n ? value : 0
        f.get(p).i32(i).add().get(n).ltU();
        f.if();
        f.get(d).get(q).get(sW).i32(i).mul().add().f32Load().f32Store(4 * i);
        f.else();
        f.get(d).i32(0).i32Store(4 * i);
        f.end();
      }
      f.get(q).get(sK).add().set(q);
      f.get(d).i32(4 * W).add().set(d);
      f.get(k).i32(1).sub().tee(k).brIf(0);
    }
    f.end();
    f.get(p).i32(W).add().set(p);
    f.br(0);
  }
  f.end();
  f.end();
  return f;
}

/** Whether a tile shape's kernel can skip zeros (see buildGemm): its panels are one or two f32x4 vectors wide. */
export function skipsZeros({ MR, NV }: Pick<KernelShape, 'MR' | 'NV'>): boolean {
  return (MR === 4 || MR === 8) && (NV === 1 || NV === 2); // (buildScan reads slices of 4 or 8 floats)
}

/** Bytes of one packed panel's list (see buildScan) for K blocks of at most kc. */
export const listBytes = (kc: number): number => (kc + 1) * 4;

/**
 * scan(p, panels, kc, list, W)   (i32; p, list in bytes)
 *   For each of `panels` packed panels W floats wide (W = 4 or 8; panel q at p + q·W·kc·4, its slice k
 *   the W floats at index k·W), writes the panel's list at list + q·listBytes(kc): [count, k...], the k
 *   (ascending) whose slice has a nonzero bit (-0 counts: only +0 is skipped). Branch-free: every k is
 *   stored, and the write pointer moves on only past those to keep.
 */
function buildScan(): Body {
  const f = new Body([i32, i32, i32, i32, i32]);
  const [p, panels, kc, list, W] = [0, 1, 2, 3, 4];
  const q = f.local(i32);
  const end = f.local(i32);
  const out = f.local(i32);
  const w = f.local(i32);
  const k = f.local(i32);
  const step = f.local(i32); // bytes per slice
  const second = f.local(i32); // offset of a slice's second vector (W = 8), else 0 (the first again)
  f.get(W).i32(4).mul().set(step);
  f.get(step).i32(16).sub().set(second);
  f.get(list).set(out);
  f.i32(0).set(q);
  f.loop();
  {
    f.get(out).i32(4).add().set(w);
    f.i32(0).set(k);
    f.get(p).get(kc).get(step).mul().add().set(end);
    f.loop();
    {
      f.get(w).get(k).i32Store();
      // w += 4 if the slice (the W floats at p: one vector, or two for W = 8) has a nonzero bit
      f.get(w);
      f.get(p).v128Load().get(p).get(second).add().v128Load().simdOp('v128.or');
      f.simdOp('v128.any_true').i32(4).mul().add().set(w);
      f.get(k).i32(1).add().set(k);
      f.get(p).get(step).add().tee(p);
      f.get(end).ltU().brIf(0);
    }
    f.end();
    // count = (w - out - 4) / 4
    f.get(out).get(w).get(out).sub().i32(4).sub().i32(4).divU().i32Store();
    f.get(out).get(kc).i32(1).add().i32(4).mul().add().set(out);
    f.get(q).i32(1).add().tee(q).get(panels).ltU().brIf(0);
  }
  f.end();
  return f;
}

/**
 * allFinite(p, n) → 1 if the floats at p (bytes) are all finite, else 0, reading n rounded up to a multiple of
 * four (the caller leaves room; a value past the n-th can only make the answer a cautious 0): a float is ±∞ or
 * NaN when its exponent bits are all ones. (Skipping zeros of one operand is exact only when the other is
 * finite: 0·∞ and 0·NaN are NaN.)
 */
function buildAllFinite(): Body {
  const f = new Body([i32, i32]);
  const [p, n] = [0, 1];
  const end = f.local(i32);
  const acc = f.local(v128); // lanes of a non-finite float seen: all ones
  const exp = f.local(v128);
  f.v128Zero().set(acc);
  f.i32(0x7f800000).simdOp('i32x4.splat').set(exp);
  f.get(p).get(n).i32(4).mul().add().set(end);
  f.block();
  f.loop();
  {
    f.get(p).get(end).geU().brIf(1);
    f.get(acc).get(p).v128Load().get(exp).simdOp('v128.and').get(exp).simdOp('i32x4.eq').simdOp('v128.or').set(acc);
    f.get(p).i32(16).add().set(p);
    f.br(0);
  }
  f.end();
  f.end();
  f.get(acc).simdOp('v128.any_true').eqz();
  return f;
}

// function indices in the module (the order of gemmModuleBytes' list)
const GEMM = 0;
const PACK_A = 1;
const PACK_B = 2;
const SCAN = 4;

/**
 * run(m0, m1, n0, n1, K, kcMax, MC, NC, ra, sAm, sAk, rb, sBk, sBn, pc, ldc, pa, pb, sp, la, lb): the block loops of
 * the Goto/BLIS structure over rows m0..m1 and columns n0..n1 of C (m0 < m1, n0 < n1, K > 0), with A's element
 * (i, k) at ra + i·sAm + k·sAk, B's (k, j) at rb + k·sBk + j·sBn and C's (i, j) at pc + i·ldc + j·4:
 *
 *   for (jc = n0; jc < n1; jc += NC) {  nc = min(NC, n1 - jc)
 *     for (k0 = 0; k0 < K; k0 += kcMax) {  kc = min(kcMax, K - k0)
 *       packB(pb, rb + k0·sBk + jc·sBn, nc, kc, sBn, sBk)
 *       for (ic = m0; ic < m1; ic += MC) {  mc = min(MC, m1 - ic)
 *         packA(pa, ra + ic·sAm + k0·sAk, mc, kc, sAm, sAk)
 *         gemm(mc, nc, kc, pa, pb, pc + ic·ldc + jc·4, ldc, k0 == 0, sp)  }}}
 *
 * Every C element is summed the same way (K blocks of kcMax, each a serial sum over k, in order) whatever
 * part of C a call covers, so splitting C between threads gives the single-threaded result bit for bit.
 */
function buildRun(NR: number, MR: number, skips: boolean): Body {
  const f = new Body(new Array<typeof i32>(21).fill(i32));
  const [m0, m1, n0, n1, K, kcMax, MC, NC, ra, sAm, sAk, rb, sBk, sBn, pc, ldc, pa, pb, sp, la, lb] = Array.from({ length: 21 }, (_, i) => i);
  const jc = f.local(i32);
  const nc = f.local(i32);
  const k0 = f.local(i32);
  const kc = f.local(i32);
  const ic = f.local(i32);
  const mc = f.local(i32);
  // x = min(cap, end - start) (signed: both fit in 31 bits)
  const minLeft = (x: number, cap: number, end: number, start: number): void => {
    f.get(cap).get(end).get(start).sub().tee(x).get(cap).get(x).ltS().select().set(x);
  };
  f.get(n0).set(jc);
  f.loop();
  {
    minLeft(nc, NC, n1, jc);
    f.i32(0).set(k0);
    f.loop();
    {
      minLeft(kc, kcMax, K, k0);
      f.get(pb).get(rb).get(k0).get(sBk).mul().add().get(jc).get(sBn).mul().add().get(nc).get(kc).get(sBn).get(sBk).call(PACK_B);
      if (skips) {
        // the B panels' lists, when skipping zeros (lb ≠ 0)
        f.get(lb);
        f.if();
        f.get(pb).get(nc).i32(NR - 1).add().i32(NR).divU().get(kc).get(lb).i32(NR).call(SCAN);
        f.end();
      }
      f.get(m0).set(ic);
      f.loop();
      {
        minLeft(mc, MC, m1, ic);
        f.get(pa).get(ra).get(ic).get(sAm).mul().add().get(k0).get(sAk).mul().add().get(mc).get(kc).get(sAm).get(sAk).call(PACK_A);
        if (skips) {
          f.get(la);
          f.if();
          f.get(pa).get(mc).i32(MR - 1).add().i32(MR).divU().get(kc).get(la).i32(MR).call(SCAN);
          f.end();
        }
        f.get(mc).get(nc).get(kc).get(pa).get(pb);
        f.get(pc).get(ic).get(ldc).mul().add().get(jc).i32(4).mul().add();
        f.get(ldc).get(k0).eqz().get(sp).get(la).get(lb).call(GEMM);
        f.get(ic).get(MC).add().tee(ic).get(m1).ltS().brIf(0);
      }
      f.end();
      f.get(k0).get(kcMax).add().tee(k0).get(K).ltS().brIf(0);
    }
    f.end();
    f.get(jc).get(NC).add().tee(jc).get(n1).ltS().brIf(0);
  }
  f.end();
  return f;
}

/**
 * The module's bytes for a micro-tile shape: exports gemm, packA (W = MR), packB (W = NR) and run. With
 * `sharedMaxPages` it imports a shared memory of at most that many pages (for threads.ts), else an ordinary one.
 */
export function gemmModuleBytes(shape: KernelShape, sharedMaxPages?: number): Uint8Array {
  if (shape.MR !== 2 && shape.MR % 4 !== 0) throw new Error('wasm sgemm: MR must be 2 or a multiple of 4');
  if (shape.MR * 16 * shape.NV > SCRATCH_BYTES) throw new Error('wasm sgemm: the tile does not fit the scratch area');
  const skips = skipsZeros(shape);
  return encodeModule(
    [
      { name: 'gemm', body: buildGemm(shape) },
      { name: 'packA', body: buildPack(shape.MR) },
      { name: 'packB', body: buildPack(4 * shape.NV) },
      { name: 'run', body: buildRun(4 * shape.NV, shape.MR, skips) },
      ...(skips ? [{ name: 'scan', body: buildScan() }, { name: 'allFinite', body: buildAllFinite(), results: [i32 as ValType] }] : []),
    ],
    sharedMaxPages === undefined ? {} : { sharedMaxPages },
  );
}
