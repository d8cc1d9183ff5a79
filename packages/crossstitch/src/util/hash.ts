/** SHA-256 helpers. */
import { createHash } from 'node:crypto';

/** Hex SHA-256 of some bytes. @example sha256Hex(new Uint8Array([1, 2])) */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
