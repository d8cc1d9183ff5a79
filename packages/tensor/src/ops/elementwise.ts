/**
 * Elementwise primitives: unary math, binary arithmetic, comparisons and select. Binary primitives take
 * operands of equal rank whose axes are equal or 1 (the wrappers below add NumPy's rank alignment and dtype
 * promotion), so broadcasting costs no copy; their VJPs sum cotangents back over broadcast axes.
 */
import { type DType, isFloat } from '../core/dtype.js';
import { broadcastShapes, formatShape } from '../core/shape.js';
import { type ArrayLike, Tensor } from '../core/tensor.js';
import { type AbstractValue, type Primitive, bind } from '../core/trace.js';
import { checkArrayLike, resultDType, toTensorOf } from './convert.js';
import { astype, moveAxis, reshape, unbroadcast } from './structural.js';
import { zerosLike } from './creation.js';

// ---------------------------------------------------------------- unary
type UnaryVjp = (ct: Tensor, x: Tensor, out: Tensor) => Tensor | null;

function unaryPrimitive(name: string, vjp: UnaryVjp | null, allowed: (d: DType) => boolean = isFloat): Primitive<Record<string, never>> {
  const prim: Primitive<Record<string, never>> = {
    name,
    abstractEval([x]) {
      if (!allowed(x!.dtype)) throw new TypeError(`${name}: unsupported dtype ${x!.dtype}`);
      return x as AbstractValue;
    },
    batch: ([x], [d]) => [bind(prim, [x!], {}), d!],
  };
  if (vjp) prim.vjp = (ct, [x], out) => [vjp(ct, x!, out)];
  return prim;
}

const numeric = (d: DType): boolean => d !== 'bool';
const anyDType = (): boolean => true;

export const negPrim = unaryPrimitive('neg', (ct) => negative(ct), numeric);
export const expPrim = unaryPrimitive('exp', (ct, _x, out) => multiply(ct, out));
export const logPrim = unaryPrimitive('log', (ct, x) => divide(ct, x));
export const log1pPrim = unaryPrimitive('log1p', (ct, x) => divide(ct, add(x, 1)));
export const expm1Prim = unaryPrimitive('expm1', (ct, _x, out) => multiply(ct, add(out, 1)));
export const sinPrim = unaryPrimitive('sin', (ct, x) => multiply(ct, cos(x)));
export const cosPrim = unaryPrimitive('cos', (ct, x) => negative(multiply(ct, sin(x))));
export const tanhPrim = unaryPrimitive('tanh', (ct, _x, out) => multiply(ct, subtract(1, multiply(out, out))));
export const logisticPrim = unaryPrimitive('logistic', (ct, _x, out) => multiply(ct, multiply(out, subtract(1, out))));
export const sqrtPrim = unaryPrimitive('sqrt', (ct, _x, out) => divide(ct, multiply(out, 2)));
export const absPrim = unaryPrimitive('abs', (ct, x) => multiply(ct, sign(x)), numeric);
export const signPrim = unaryPrimitive('sign', null, numeric);
export const floorPrim = unaryPrimitive('floor', null);
export const ceilPrim = unaryPrimitive('ceil', null);
export const roundPrim = unaryPrimitive('round', null);
export const notPrim = unaryPrimitive('not', null, (d) => d === 'bool' || d === 'int32');

/** Cast ints and bools to float32 before float-only math (as NumPy does). */
function floating(x: ArrayLike, where: string): Tensor {
  const t = toTensorOf(checkArrayLike(x, where), resultDType([x], where), astype);
  return isFloat(t.dtype) ? t : astype(t, 'float32');
}
function numericArg(x: ArrayLike, where: string): Tensor {
  const t = toTensorOf(checkArrayLike(x, where), resultDType([x], where), astype);
  return t.dtype === 'bool' ? astype(t, 'int32') : t;
}

/** Elementwise -x (`jnp.negative`). @example negative(array([1, -2])) // [-1, 2] */
export const negative = (x: ArrayLike): Tensor => bind(negPrim, [numericArg(x, 'negative')]);
/** Elementwise e^x (`jnp.exp`); ints and bools compute in float32. @example exp(array([0, 1])) */
export const exp = (x: ArrayLike): Tensor => bind(expPrim, [floating(x, 'exp')]);
/** Natural logarithm (`jnp.log`). @example log(array([1, Math.E])) */
export const log = (x: ArrayLike): Tensor => bind(logPrim, [floating(x, 'log')]);
/** log(1 + x), accurate near 0 (`jnp.log1p`). @example log1p(array([1e-8])) */
export const log1p = (x: ArrayLike): Tensor => bind(log1pPrim, [floating(x, 'log1p')]);
/** exp(x) - 1, accurate near 0 (`jnp.expm1`). @example expm1(array([1e-8])) */
export const expm1 = (x: ArrayLike): Tensor => bind(expm1Prim, [floating(x, 'expm1')]);
/** Elementwise sine, in radians (`jnp.sin`). @example sin(array([0])) */
export const sin = (x: ArrayLike): Tensor => bind(sinPrim, [floating(x, 'sin')]);
/** Elementwise cosine, in radians (`jnp.cos`). @example cos(array([0])) */
export const cos = (x: ArrayLike): Tensor => bind(cosPrim, [floating(x, 'cos')]);
/** Elementwise hyperbolic tangent (`jnp.tanh`). @example tanh(array([0.5])) */
export const tanh = (x: ArrayLike): Tensor => bind(tanhPrim, [floating(x, 'tanh')]);
/** The logistic sigmoid 1 / (1 + e^-x), computed stably (`lax.logistic`, `jax.nn.sigmoid`). @example logistic(array([0])) // 0.5 */
export const logistic = (x: ArrayLike): Tensor => bind(logisticPrim, [floating(x, 'logistic')]);
/** Elementwise square root (`jnp.sqrt`). @example sqrt(array([4])) */
export const sqrt = (x: ArrayLike): Tensor => bind(sqrtPrim, [floating(x, 'sqrt')]);
/** Elementwise absolute value (`jnp.abs`). @example abs(array([-1, 2])) */
export const abs = (x: ArrayLike): Tensor => bind(absPrim, [numericArg(x, 'abs')]);
/** -1, 0 or 1 by the sign of each element (`jnp.sign`). @example sign(array([-3, 0, 2])) */
export const sign = (x: ArrayLike): Tensor => bind(signPrim, [numericArg(x, 'sign')]);
/** Round down to an integer value (`jnp.floor`). @example floor(array([1.5])) */
export const floor = (x: ArrayLike): Tensor => bind(floorPrim, [floating(x, 'floor')]);
/** Round up to an integer value (`jnp.ceil`). @example ceil(array([1.5])) */
export const ceil = (x: ArrayLike): Tensor => bind(ceilPrim, [floating(x, 'ceil')]);
/** Round half to even (NumPy's rule, `jnp.round`). @example round(array([0.5, 1.5])) // [0, 2] */
export const round = (x: ArrayLike): Tensor => bind(roundPrim, [floating(x, 'round')]);
/** Logical not of a bool array (`jnp.logical_not`); bitwise not of int32 (`jnp.invert`). @example logicalNot(array([true])) */
export const logicalNot = (x: Tensor): Tensor => bind(notPrim, [x]);

// ---------------------------------------------------------------- binary
type BinaryVjp = (ct: Tensor, x: Tensor, y: Tensor, out: Tensor) => [Tensor | null, Tensor | null];

function broadcastEval(name: string, inputs: readonly AbstractValue[]): number[] {
  const rank = inputs[0]!.shape.length;
  if (inputs.some((v) => v.shape.length !== rank)) {
    throw new RangeError(`${name}: operands must have equal rank, got ${inputs.map((v) => formatShape(v.shape)).join(' and ')}`);
  }
  return broadcastShapes(name, ...inputs.map((v) => v.shape));
}

/** Batch an n-ary elementwise primitive: batch axes to the front; unbatched operands get a size-1 axis. */
function batchElementwise(prim: Primitive, args: readonly Tensor[], dims: readonly (number | null)[], params: unknown): [Tensor, number] {
  const moved = args.map((a, i) => (dims[i] === null ? reshape(a, [1, ...a.shape]) : moveAxis(a, dims[i]!, 0)));
  return [bind(prim, moved, params), 0];
}

function binaryPrimitive(name: string, vjp: BinaryVjp | null, outDType?: DType, allowed: (d: DType) => boolean = anyDType): Primitive<Record<string, never>> {
  const prim: Primitive<Record<string, never>> = {
    name,
    abstractEval([x, y]) {
      const shape = broadcastEval(name, [x!, y!]);
      if (x!.dtype !== y!.dtype) throw new TypeError(`${name}: dtypes ${x!.dtype} and ${y!.dtype} differ (promote first)`);
      if (!allowed(x!.dtype)) throw new TypeError(`${name}: unsupported dtype ${x!.dtype}`);
      return { shape, dtype: outDType ?? x!.dtype };
    },
    batch: (args, dims) => batchElementwise(prim, args, dims, {}),
  };
  if (vjp) {
    prim.vjp = (ct, [x, y], out) => {
      const [dx, dy] = vjp(ct, x!, y!, out);
      return [dx && unbroadcast(dx, x!.shape), dy && unbroadcast(dy, y!.shape)];
    };
  }
  return prim;
}

export const addPrim = binaryPrimitive('add', (ct) => [ct, ct], undefined, numeric);
export const subPrim = binaryPrimitive('sub', (ct) => [ct, negative(ct)], undefined, numeric);
export const mulPrim = binaryPrimitive('mul', (ct, x, y) => [multiply(ct, y), multiply(ct, x)], undefined, numeric);
export const divPrim = binaryPrimitive('div', (ct, _x, y, out) => [divide(ct, y), negative(multiply(ct, divide(out, y)))], undefined, numeric);
export const powPrim = binaryPrimitive(
  'pow',
  (ct, x, y, out) => {
    // d/dx x^y = y x^(y-1) (0 where y == 0); d/dy = log(x) x^y (0 where x == 0, as JAX does).
    const dx = select(equal(y, 0), zerosLike(x), multiply(y, power(x, subtract(y, 1))));
    const logx = log(select(equal(x, 0), onesOf(x), x));
    return [multiply(ct, dx), multiply(ct, multiply(logx, out))];
  },
  undefined,
  isFloat,
);
function tieSplit(ct: Tensor, x: Tensor, y: Tensor, pick: (a: Tensor, b: Tensor) => Tensor): [Tensor, Tensor] {
  // The winner takes the cotangent; exact ties share it equally (as JAX does).
  const win = astype(pick(x, y), ct.dtype);
  const tie = multiply(astype(equal(x, y), ct.dtype), 0.5);
  const wx = add(win, tie);
  const wy = subtract(subtract(1, win), tie);
  return [multiply(ct, wx), multiply(ct, wy)];
}
export const maxPrim = binaryPrimitive('max', (ct, x, y) => tieSplit(ct, x, y, greater), undefined, numeric);
export const minPrim = binaryPrimitive('min', (ct, x, y) => tieSplit(ct, x, y, less), undefined, numeric);
export const atan2Prim = binaryPrimitive(
  'atan2',
  (ct, y, x) => {
    const r2 = add(multiply(x, x), multiply(y, y));
    return [multiply(ct, divide(x, r2)), negative(multiply(ct, divide(y, r2)))];
  },
  undefined,
  isFloat,
);
const intOrBool = (d: DType): boolean => d === 'bool' || d === 'int32';
export const andPrim = binaryPrimitive('and', null, undefined, intOrBool);
export const orPrim = binaryPrimitive('or', null, undefined, intOrBool);
export const eqPrim = binaryPrimitive('eq', null, 'bool');
export const nePrim = binaryPrimitive('ne', null, 'bool');
export const ltPrim = binaryPrimitive('lt', null, 'bool');
export const lePrim = binaryPrimitive('le', null, 'bool');
export const gtPrim = binaryPrimitive('gt', null, 'bool');
export const gePrim = binaryPrimitive('ge', null, 'bool');

function onesOf(x: Tensor): Tensor {
  return add(zerosLike(x), 1);
}

/** Promote, align ranks, and bind an n-ary elementwise primitive. */
function applyElementwise(prim: Primitive, where: string, args: readonly ArrayLike[], dtypeFor?: (d: DType) => DType): Tensor {
  let dtype = resultDType(args, where);
  if (dtypeFor) dtype = dtypeFor(dtype);
  return bind(prim, alignRanks(args.map((a) => toTensorOf(a, dtype, astype)), where), {});
}

/** Prepend size-1 axes so all operands have the same rank, checking they broadcast. */
function alignRanks(ts: readonly Tensor[], where: string): Tensor[] {
  // Check on the shapes as given, so that an error names them (not their rank-aligned forms).
  broadcastShapes(where, ...ts.map((t) => t.shape));
  const rank = Math.max(...ts.map((t) => t.ndim));
  return ts.map((t) => (t.ndim === rank ? t : reshape(t, [...new Array<number>(rank - t.ndim).fill(1), ...t.shape])));
}

const asNumeric = (d: DType): DType => (d === 'bool' ? 'int32' : d);
const asFloat = (d: DType): DType => (isFloat(d) ? d : 'float32');

/** Elementwise x + y with broadcasting (`jnp.add`). @example add(array([1, 2]), 10) */
export const add = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(addPrim, 'add', [x, y], asNumeric);
/** Elementwise x - y with broadcasting (`jnp.subtract`). @example subtract(array([3]), 1) */
export const subtract = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(subPrim, 'subtract', [x, y], asNumeric);
/** Elementwise x * y with broadcasting (`jnp.multiply`). @example multiply(array([1, 2]), array([[3], [4]])) */
export const multiply = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(mulPrim, 'multiply', [x, y], asNumeric);
/** True division: ints promote to float32 (NumPy's `true_divide`, `jnp.divide`). @example divide(array([1]), 4) */
export const divide = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(divPrim, 'divide', [x, y], asFloat);
/**
 * Integer division rounding toward zero for int32, true division otherwise (`lax.div`).
 * @example np.truncDivide(array([7, -7], 'int32'), 2)   // int32 [3, -3]
 */
export const truncDivide = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(divPrim, 'truncDivide', [x, y], asNumeric);
/** x ** y (floats; `jnp.power`). @example power(array([2]), 3) */
export const power = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(powPrim, 'power', [x, y], asFloat);
/** Elementwise maximum (NaN propagates; `jnp.maximum`). @example maximum(array([1, 5]), 3) */
export const maximum = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(maxPrim, 'maximum', [x, y], asNumeric);
/** Elementwise minimum (NaN propagates; `jnp.minimum`). @example minimum(array([1, 5]), 3) */
export const minimum = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(minPrim, 'minimum', [x, y], asNumeric);
/** The angle of (x, y): atan2(y, x) (`jnp.arctan2`). @example arctan2(array([1]), array([1])) */
export const arctan2 = (y: ArrayLike, x: ArrayLike): Tensor => applyElementwise(atan2Prim, 'arctan2', [y, x], asFloat);
/** Elementwise AND of bool arrays (`jnp.logical_and`). @example logicalAnd(a.greater(0), a.less(1)) */
export const logicalAnd = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(andPrim, 'logicalAnd', [x, y], () => 'bool');
/** Elementwise OR of bool arrays (`jnp.logical_or`). @example logicalOr(a.less(0), a.greater(1)) */
export const logicalOr = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(orPrim, 'logicalOr', [x, y], () => 'bool');
/** Elementwise x == y as a bool array (`jnp.equal`). @example equal(array([1, 2]), 2) // [false, true] */
export const equal = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(eqPrim, 'equal', [x, y]);
/** Elementwise x != y as a bool array (`jnp.not_equal`). @example notEqual(array([1, 2]), 2) */
export const notEqual = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(nePrim, 'notEqual', [x, y]);
/** Elementwise x < y as a bool array (`jnp.less`). @example less(array([1, 2]), 2) */
export const less = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(ltPrim, 'less', [x, y]);
/** Elementwise x <= y as a bool array (`jnp.less_equal`). @example lessEqual(array([1, 2]), 2) */
export const lessEqual = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(lePrim, 'lessEqual', [x, y]);
/** Elementwise x > y as a bool array (`jnp.greater`). @example greater(array([1, 2]), 1) */
export const greater = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(gtPrim, 'greater', [x, y]);
/** Elementwise x >= y as a bool array (`jnp.greater_equal`). @example greaterEqual(array([1, 2]), 2) */
export const greaterEqual = (x: ArrayLike, y: ArrayLike): Tensor => applyElementwise(gePrim, 'greaterEqual', [x, y]);

// ---------------------------------------------------------------- select
export const selectPrim: Primitive<Record<string, never>> = {
  name: 'select',
  abstractEval([c, x, y]) {
    const shape = broadcastEval('where', [c!, x!, y!]);
    if (c!.dtype !== 'bool') throw new TypeError(`where: condition must be bool, got ${c!.dtype}`);
    if (x!.dtype !== y!.dtype) throw new TypeError(`where: branch dtypes ${x!.dtype} and ${y!.dtype} differ`);
    return { shape, dtype: x!.dtype };
  },
  vjp(ct, [c, x, y]) {
    const zero = zerosLike(ct);
    return [null, unbroadcast(select(c!, ct, zero), x!.shape), unbroadcast(select(c!, zero, ct), y!.shape)];
  },
  batch: (args, dims) => batchElementwise(selectPrim, args, dims, {}),
};

/**
 * `lax.select` on tensors (no promotion): `x` where `cond` is true, else `y`.
 * @example lax.select(array([true, false]), array([1, 2]), array([3, 4]))   // [1, 4]
 */
export function select(cond: Tensor, x: Tensor, y: Tensor): Tensor {
  return where(cond, x, y);
}

/**
 * Choose elementwise: `x` where `cond` is true, else `y` (`numpy.where`), with broadcasting and promotion.
 * @example where(x.greater(0), x, 0)   // relu
 */
export function where(cond: ArrayLike, x: ArrayLike, y: ArrayLike): Tensor {
  const dtype = resultDType([x, y], 'where');
  const c = toTensorOf(checkArrayLike(cond, 'where'), 'bool', astype);
  return bind(selectPrim, alignRanks([c, toTensorOf(x, dtype, astype), toTensorOf(y, dtype, astype)], 'where'), {});
}
