/**
 * A profiler of jit's compiled programs: with `jitProfiler.enabled` (or XS_PROFILE=1 when the library loads),
 * every call of a compiled plan times each of its equations (one kernel call each: a matmul, a fused
 * elementwise group, a reduction...) with `performance.now()`, and `jitProfile()` reports the totals per
 * program and equation. Off, it costs one check per call. The times are wall times of the kernel calls as the
 * program makes them (their copies into and out of WebAssembly memory included); what lies between them
 * (argument checks, the plan's own loop) is the program's total minus their sum.
 */
import type { Eqn, Jaxpr } from './jaxpr.js';
import { fusedElementwisePrim } from './passes/fuse-elementwise.js';

/** The switch of jit's profiler (see {@link jitProfiler}). */
export interface JitProfilerConfig {
  /** Time each equation of every compiled program called from now on (XS_PROFILE=1 turns it on at load). */
  enabled: boolean;
}

/** Whether compiled programs time their equations (see {@link jitProfile}). */
export const jitProfiler: JitProfilerConfig = {
  enabled: (typeof process !== 'undefined' ? process.env?.XS_PROFILE : undefined) === '1',
};

/** One equation of a compiled program, with its time (see {@link jitProfile}). */
export interface JitProfileRow {
  /** The jitted function's name (or 'anonymous') and the program's number, in the order programs were compiled. */
  program: string;
  /** The primitive and its output shapes, e.g. `dot_general f32[100,60]`; a fused group lists its ops. */
  equation: string;
  /** Calls of the program while profiling was on. */
  calls: number;
  /** Milliseconds spent in this equation over those calls. */
  totalMs: number;
  /** Microseconds per call. */
  meanUs: number;
}

/** A compiled program's per-equation counters, which its plan (execute.ts) adds to at each profiled call. */
export interface ProgramProfile {
  readonly name: string;
  readonly equations: readonly string[];
  calls: number;
  /** Milliseconds per equation. */
  readonly ms: Float64Array;
}

const programs: ProgramProfile[] = [];

/** The counters of a program about to be timed for the first time (kept until {@link resetJitProfile}). */
export function registerProgram(name: string, j: Jaxpr): ProgramProfile {
  const p: ProgramProfile = { name: `${name} #${programs.length + 1}`, equations: j.eqns.map(describe), calls: 0, ms: new Float64Array(j.eqns.length) };
  programs.push(p);
  return p;
}

function describe(e: Eqn): string {
  const outs = e.outs.map((o) => `${o.aval.dtype === 'float32' ? 'f32' : o.aval.dtype}[${o.aval.shape.join(',')}]`).join(' ');
  const ops = e.prim === fusedElementwisePrim ? ` (${(e.params as { jaxpr: Jaxpr }).jaxpr.eqns.map((q) => q.prim.name).join(' ')})` : '';
  return `${e.prim.name} ${outs}${ops}`;
}

/**
 * The time of every equation of every program compiled and called while {@link jitProfiler} was on, the most
 * expensive first.
 * @example
 * import { jitProfiler, jitProfile, formatJitProfile } from '@xs/tensor';
 * jitProfiler.enabled = true;
 * for (let i = 0; i < 1000; i++) params = step(params, x, y);
 * console.log(formatJitProfile(jitProfile(), 15));
 */
export function jitProfile(): JitProfileRow[] {
  const rows: JitProfileRow[] = [];
  for (const p of programs) {
    p.equations.forEach((equation, i) => {
      const totalMs = p.ms[i]!;
      rows.push({ program: p.name, equation, calls: p.calls, totalMs, meanUs: p.calls > 0 ? (1000 * totalMs) / p.calls : 0 });
    });
  }
  return rows.sort((a, b) => b.totalMs - a.totalMs);
}

/** Forget every program's counters (programs called again start new ones). */
export function resetJitProfile(): void {
  for (const p of programs) p.calls = -1; // (a program holding these counters registers anew at its next call)
  programs.length = 0;
}

/**
 * `rows` (default: {@link jitProfile}) as a text table, the first `top` rows, with each one's share of all.
 * @example console.log(formatJitProfile(undefined, 10));
 */
export function formatJitProfile(rows: readonly JitProfileRow[] = jitProfile(), top = 20): string {
  const all = rows.reduce((s, r) => s + r.totalMs, 0);
  const lines = rows.slice(0, top).map((r) => `${r.meanUs.toFixed(1).padStart(9)} µs ${((100 * r.totalMs) / (all || 1)).toFixed(1).padStart(5)}%  ${r.program}: ${r.equation}`);
  return [`  µs/call share  program: equation (${rows.length} equations, ${all.toFixed(1)} ms in all)`, ...lines].join('\n');
}
