import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../src/index.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('atomicWriteFile', () => {
  it('writes the whole content, creates the folder and leaves no temporary file (durable and not)', () => {
    const dir = tempDir();
    for (const durable of [true, false]) {
      const p = join(dir, `sub-${durable}`, 'f.txt');
      atomicWriteFile(p, [bytes('hello, '), bytes('world')], { durable });
      expect(fs.readFileSync(p, 'utf8')).toBe('hello, world');
      atomicWriteFile(p, bytes('again'), { durable });
      expect(fs.readFileSync(p, 'utf8')).toBe('again');
      expect(fs.readdirSync(join(dir, `sub-${durable}`))).toEqual(['f.txt']);
    }
  });

  it('removes its temporary file when the rename fails, leaving what was there', () => {
    const dir = tempDir();
    const target = join(dir, 'taken');
    fs.mkdirSync(join(target, 'inside'), { recursive: true }); // a non-empty folder cannot be renamed over
    for (const durable of [true, false]) {
      expect(() => atomicWriteFile(target, bytes('new'), { durable })).toThrow();
      expect(fs.readdirSync(dir)).toEqual(['taken']);
      expect(fs.readdirSync(target)).toEqual(['inside']);
    }
  });
});
