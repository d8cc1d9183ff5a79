/**
 * The parts of the WebAssembly JS API the CPU backend's generated kernels use. The TS lib config declares no
 * WebAssembly globals (the library also targets browsers without Node's types), so they are declared here once.
 */

/** An ordinary (unshared) WebAssembly memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

/** A shared WebAssembly memory (needs the threads feature), as the matmul's worker threads use. */
export interface SharedWasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(deltaPages: number): number;
}

/** `WebAssembly`: modules, instances and memories. */
export interface WasmApi {
  /** Whether the engine accepts a module (its instructions and features), without compiling it. */
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: {
    new (desc: { initial: number; maximum?: number }): WasmMemory;
    new (desc: { initial: number; maximum: number; shared: true }): SharedWasmMemory;
  };
}

/** The platform's `WebAssembly`, or undefined where there is none. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
}
