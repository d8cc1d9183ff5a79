import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Tensor, array, zeros } from '@xs/tensor';
import {
  CheckpointError,
  TensorSpec,
  decodeSafetensors,
  encodeSafetensors,
  flattenPytree,
  loadPytree,
  loadSafetensors,
  parseSafetensorsHeader,
  readSafetensorsHeader,
  savePytree,
  saveSafetensors,
  unflattenPytree,
} from '../src/index.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Build a safetensors file by hand: header text (padded to 8 with spaces) and data bytes. */
function handBuilt(headerText: string, data: number[], pad = true): Uint8Array {
  let text = headerText;
  if (pad) while ((8 + text.length) % 8 !== 0) text += ' ';
  const head = new TextEncoder().encode(text);
  const len = new Uint8Array(8);
  len[0] = head.length & 0xff;
  len[1] = (head.length >> 8) & 0xff;
  return concat([len, head, Uint8Array.from(data)]);
}

// little-endian bytes of float32 1.5 and -2, and int32 7
const F32_1_5 = [0x00, 0x00, 0xc0, 0x3f];
const F32_M2 = [0x00, 0x00, 0x00, 0xc0];
const I32_7 = [7, 0, 0, 0];

describe('safetensors byte layout', () => {
  it('encodes exactly the hand-built bytes', () => {
    const bytes = concat(encodeSafetensors({ b: array(7, 'int32'), a: array([1.5, -2]) }));
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[],"data_offsets":[8,12]}}';
    expect(bytes).toEqual(handBuilt(header, [...F32_1_5, ...F32_M2, ...I32_7]));
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    expect(n).toBe(Math.ceil(header.length / 8) * 8);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + n))).toBe(header + ' '.repeat(n - header.length));
  });

  it('decodes a hand-built file (metadata first, other key order, F64 and BOOL)', () => {
    const header =
      '{"__metadata__":{"format":"pt","epoch":"5"},"flags":{"dtype":"BOOL","shape":[3],"data_offsets":[8,11]},"x":{"shape":[1],"dtype":"F64","data_offsets":[0,8]}}';
    const f64 = [0, 0, 0, 0, 0, 0, 0xf8, 0x3f]; // 1.5
    const { tensors, metadata } = decodeSafetensors(handBuilt(header, [...f64, 1, 0, 1]));
    expect(metadata).toEqual({ format: 'pt', epoch: '5' });
    expect(tensors.x!.dtype).toBe('float64');
    expect(tensors.x!.toArray()).toEqual([1.5]);
    expect(tensors.flags!.dtype).toBe('bool');
    expect(tensors.flags!.toArray()).toEqual([true, false, true]);
  });

  it('round-trips every dtype, scalars, empty tensors and metadata, through a file', () => {
    const dir = tempDir();
    const p = join(dir, 'ckpt.safetensors');
    const ts: Record<string, Tensor> = {
      'mnist.0.0': array([[0.1, -0.2, 3e-8], [4, 5, 6]]),
      f64: array([Math.PI, -1e300], 'float64'),
      i32: array([-(2 ** 31), 0, 2 ** 31 - 1], 'int32'),
      mask: array([true, false]),
      scalar: array(2.5),
      empty: zeros([0, 3]),
    };
    saveSafetensors(p, ts, { note: 'hello', 'unicode ✓': 'ü' });
    expect(readdirSync(dir)).toEqual(['ckpt.safetensors']);
    const { tensors, metadata } = loadSafetensors(p);
    expect(metadata).toEqual({ note: 'hello', 'unicode ✓': 'ü' });
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(ts).sort());
    for (const [k, t] of Object.entries(ts)) {
      expect(tensors[k]!.dtype).toBe(t.dtype);
      expect(tensors[k]!.shape).toEqual(t.shape);
      expect([...tensors[k]!.data()]).toEqual([...t.data()]);
    }
    const h = readSafetensorsHeader(p);
    expect(h.tensors['mnist.0.0']).toEqual({ dtype: 'float32', shape: [2, 3], dataOffsets: [expect.any(Number), expect.any(Number)] });
    expect(h.dataStart % 8).toBe(0);
    // overwriting is atomic too
    saveSafetensors(p, { only: array([1]) });
    expect(Object.keys(loadSafetensors(p).tensors)).toEqual(['only']);
    expect(readdirSync(dir)).toEqual(['ckpt.safetensors']);
  });

  it('refuses bad names and metadata on save', () => {
    expect(() => encodeSafetensors({ __metadata__: array([1]) })).toThrow(/cannot be a tensor name/);
    expect(() => encodeSafetensors({ a: array([1]) }, { n: 5 as unknown as string })).toThrow(/metadata "n" must be a string/);
  });
});

describe('safetensors validation on load: corrupt files are clear errors naming the file', () => {
  const good = () => concat(encodeSafetensors({ a: array([1.5, -2]), b: array(7, 'int32') }, { k: 'v' }));
  const file = 'model.safetensors';
  const bad = (bytes: Uint8Array, re: RegExp) => {
    let err: unknown;
    try {
      decodeSafetensors(bytes, { file });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message.startsWith(`${file}: `)).toBe(true);
    expect((err as Error).message).toMatch(re);
  };
  const a = '{"dtype":"F32","shape":[2],"data_offsets":[0,8]}';
  const data = [...F32_1_5, ...F32_M2, ...I32_7];

  it('truncation anywhere', () => {
    const g = good();
    bad(g.subarray(0, 5), /truncated: 5 bytes, too short for the 8-byte header length/);
    bad(g.subarray(0, 40), /truncated: the header needs \d+ bytes after the 8-byte length, the file has 32/);
    bad(g.subarray(0, g.length - 1), /tensor "b": data_offsets \[8, 12\] are out of range: the data section has 11 bytes \(file truncated\?\)/);
  });

  it('trailing bytes', () => bad(concat([good(), Uint8Array.from([0, 0])]), /2 trailing bytes after the last tensor/));

  it('header not JSON / not an object / absurd length / not UTF-8', () => {
    bad(handBuilt('{"a": nope}', []), /header is not valid JSON/);
    bad(handBuilt('[1,2]', []), /header does not start with '\{'/);
    bad(handBuilt('{"a":1}', []), /tensor "a": entry is not an object/);
    const huge = new Uint8Array(16);
    huge[7] = 1;
    bad(huge, /header length \d+ is larger than the 100000000-byte limit/);
    const badUtf8 = handBuilt('{"a":"xx"}', []);
    badUtf8[8 + 6] = 0xff;
    bad(badUtf8, /header is not valid UTF-8/);
  });

  it('offsets: out of range, gap, overlap, backwards; size vs dtype × shape', () => {
    bad(handBuilt(`{"a":${a},"b":{"dtype":"I32","shape":[],"data_offsets":[9,13]}}`, [...data, 0]), /gap of 1 bytes before tensor "b"/);
    bad(handBuilt(`{"a":${a},"b":{"dtype":"I32","shape":[],"data_offsets":[4,8]}}`, data.slice(0, 8)), /tensors "a" and "b" overlap/);
    bad(handBuilt(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`, data), /data_offsets \[8, 0\] run backwards/);
    bad(handBuilt(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, data.slice(0, 8)), /tensor "a": has 8 bytes but dtype F32 × shape \[3\] needs 12/);
    bad(handBuilt(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}`, data.slice(0, 8)), /data_offsets \[0\] is not a pair/);
    bad(handBuilt(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, data.slice(0, 8)), /shape \[-2\] is not a list of non-negative integers/);
  });

  it('dtypes: unsupported, unknown, missing; BOOL bytes must be 0/1', () => {
    bad(handBuilt('{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}', data.slice(0, 8)), /dtype F16 is not supported here \(supported: F32, F64, I32, BOOL\)/);
    bad(handBuilt('{"a":{"dtype":"Q7","shape":[4],"data_offsets":[0,8]}}', data.slice(0, 8)), /dtype Q7 is unknown/);
    bad(handBuilt('{"a":{"shape":[4],"data_offsets":[0,8]}}', data.slice(0, 8)), /missing or non-string dtype/);
    bad(handBuilt('{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}', [1, 2]), /BOOL element 1 has byte value 2/);
  });

  it('metadata must be strings', () => {
    bad(handBuilt(`{"__metadata__":{"epoch":5},"a":${a}}`, data.slice(0, 8)), /__metadata__\["epoch"\] must be a string, got 5/);
  });

  it('expected names, shapes and dtypes', () => {
    const g = good();
    expect(Object.keys(decodeSafetensors(g, { expect: { a: { shape: [2], dtype: 'float32' }, b: { dtype: 'int32' } } }).tensors).sort()).toEqual(['a', 'b']);
    expect(() => decodeSafetensors(g, { file, expect: { a: { shape: [2, 1] }, c: {} } })).toThrow(
      /model.safetensors: does not match the expected tensors: tensor "a" has shape \[2\], expected \[2, 1\]; missing tensor "c"; unexpected tensor "b"/,
    );
    expect(() => decodeSafetensors(g, { file, expect: { b: { dtype: 'float32' } }, allowExtra: true })).toThrow(/tensor "b" has dtype int32, expected float32/);
    expect(Object.keys(decodeSafetensors(g, { expect: { a: array([0, 0]) }, allowExtra: true }).tensors)).toContain('a');
  });

  it('a corrupt file on disk names its path; a missing one too', () => {
    const dir = tempDir();
    const p = join(dir, 'x.safetensors');
    writeFileSync(p, good().subarray(0, 30));
    expect(() => loadSafetensors(p)).toThrow(new RegExp(`^${p}: truncated`));
    expect(() => loadSafetensors(join(dir, 'nope.safetensors'))).toThrow(/nope.safetensors: cannot read/);
    expect(() => parseSafetensorsHeader(new Uint8Array(0), p)).toThrow(CheckpointError);
  });
});

describe('pytrees in checkpoints', () => {
  const params = () => ({
    mnist: [[array([[1, 2]]), array([0.5])], [array([[3]]), array([0])]],
    fashion: [[array([[4, 5]]), array([1])]],
    alpha: [[zeros([2, 3]), zeros([2, 3])]],
    step: array(3, 'int32'),
  });

  it('flattens to dotted names', () => {
    expect(Object.keys(flattenPytree(params())).sort()).toEqual(
      ['alpha.0.0', 'alpha.0.1', 'fashion.0.0', 'fashion.0.1', 'mnist.0.0', 'mnist.0.1', 'mnist.1.0', 'mnist.1.1', 'step'].sort(),
    );
    expect(() => flattenPytree({ 'a.b': array([1]) })).toThrow(/key "a.b" .* cannot be stored/);
    expect(() => flattenPytree({ 0: array([1]) })).toThrow(/looks like an array index/);
    expect(() => flattenPytree({ a: 5 as unknown as Tensor })).toThrow(/leaf at a is number, not a Tensor/);
    expect(() => flattenPytree(array([1]))).toThrow(/root must be an array or a plain object/);
  });

  it('round-trips without a template (structure from names) and with one', () => {
    const dir = tempDir();
    const p = join(dir, 'params.safetensors');
    savePytree(p, params(), { epoch: '5' });
    const { tree, metadata } = loadPytree(p);
    expect(metadata).toEqual({ epoch: '5' });
    const t = tree as ReturnType<typeof params>;
    expect(Array.isArray(t.mnist)).toBe(true);
    expect(t.mnist[1]![0]!.toArray()).toEqual([[3]]);
    expect(t.alpha[0]![1]!.shape).toEqual([2, 3]);
    expect(t.step.dtype).toBe('int32');
    const withTemplate = loadPytree(p, params()).tree as ReturnType<typeof params>;
    expect(withTemplate.fashion[0]![0]!.toArray()).toEqual([[4, 5]]);
    const specs = loadPytree(p, { ...params(), alpha: [[new TensorSpec([2, 3], 'float32'), new TensorSpec([2, 3], 'float32')]] }).tree as ReturnType<typeof params>;
    expect(specs.alpha[0]![0]!.shape).toEqual([2, 3]);
  });

  it('a template that does not match is a clear error', () => {
    const dir = tempDir();
    const p = join(dir, 'params.safetensors');
    savePytree(p, params());
    expect(() => loadPytree(p, { ...params(), alpha: [[zeros([3, 2]), zeros([2, 3])]] })).toThrow(/tensor "alpha.0.0" has shape \[2, 3\], expected \[3, 2\]/);
    expect(() => loadPytree(p, { mnist: params().mnist })).toThrow(/unexpected tensor "alpha.0.0"/);
    expect(Object.keys(loadPytree(p, { mnist: params().mnist }, { allowExtra: true }).tree as object)).toEqual(['mnist']);
    expect(() => loadPytree(p, { ...params(), extra: array([1]) })).toThrow(/missing tensor "extra"/);
  });

  it('unflattenPytree: arrays only for contiguous 0..n-1 keys; conflicts are errors', () => {
    const x = array([1]);
    expect(unflattenPytree({ 'a.0': x, 'a.1': x, b: x })).toEqual({ a: [x, x], b: x });
    expect(unflattenPytree({ 'a.0': x, 'a.2': x })).toEqual({ a: { 0: x, 2: x } });
    expect(() => unflattenPytree({ a: x, 'a.0': x })).toThrow(/"a" is both a tensor and a prefix/);
  });
});

const py = spawnSync('python3', ['-c', 'import safetensors.numpy, numpy'], { encoding: 'utf8' });
const hasPySafetensors = py.status === 0;
describe.skipIf(!hasPySafetensors)(`cross-check with Python's safetensors${hasPySafetensors ? '' : ' [SKIPPED: python3 with the safetensors package is not available]'}`, () => {
  it('Python reads what we write, and we read what Python writes', () => {
    const dir = tempDir();
    const ours = join(dir, 'ours.safetensors');
    saveSafetensors(ours, { w: array([[1.5, -2], [3, 4]]), i: array([1, 2, 3], 'int32'), d: array([0.25], 'float64') }, { k: 'v' });
    const theirs = join(dir, 'theirs.safetensors');
    const script = `
import sys, json, numpy as np
from safetensors.numpy import load_file, save_file
t = load_file(sys.argv[1])
print(json.dumps({k: [str(v.dtype), list(v.shape), v.ravel().tolist()] for k, v in sorted(t.items())}))
save_file({"z": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([True, False])}, sys.argv[2], metadata={"from": "python"})
`;
    const r = spawnSync('python3', ['-c', script, ours, theirs], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ d: ['float64', [1], [0.25]], i: ['int32', [3], [1, 2, 3]], w: ['float32', [2, 2], [1.5, -2, 3, 4]] });
    const back = loadSafetensors(theirs);
    expect(back.metadata).toEqual({ from: 'python' });
    expect(back.tensors.z!.toArray()).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(back.tensors.b!.toArray()).toEqual([true, false]);
    expect(readFileSync(theirs).length).toBeGreaterThan(0);
  });
});
