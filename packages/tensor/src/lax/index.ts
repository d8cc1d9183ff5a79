/**
 * `lax`: the primitives' own wrappers, one per primitive, with JAX's `jax.lax` names where they exist. No
 * NumPy conveniences here: shapes and dtypes must already agree (binary ops still broadcast size-1 axes).
 * @packageDocumentation
 * @example
 * lax.dotGeneral(x, w, [[1], [1]]);            // x · wᵀ
 * lax.broadcastInDim(b, [100, 60], [1]);       // bias to rows
 */
export { dotGeneral } from '../ops/dot.js';
export { reduceSum } from '../ops/reduce.js';
export { broadcastInDim, reshape, transpose, slice, pad, concatenate, stopGradient, astype as convertElementType } from '../ops/structural.js';
export { select, logistic, truncDivide as div } from '../ops/elementwise.js';
export { take as gather, scatterAdd } from '../ops/indexing.js';
