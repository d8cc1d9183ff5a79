/**
 * The JSON Schema of `train --json` output, and a small validator for the subset of JSON Schema it uses
 * (type, properties, required, additionalProperties, items, minItems/maxItems, enum, minimum/maximum,
 * pattern, if/then). Tests check the CLI's output against it; scripts can rely on it.
 */

/** A JSON Schema (the subset {@link validateJson} understands). */
export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null' | readonly ('object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null')[];
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  if?: JsonSchema;
  then?: JsonSchema;
}

const percent: JsonSchema = { type: 'number', minimum: 0, maximum: 100, description: 'test accuracy in percent' };
const pair = (item: JsonSchema): JsonSchema => ({ type: 'object', required: ['alone', 'stitched'], additionalProperties: false, properties: { alone: item, stitched: item } });
const perTask = (item: JsonSchema): JsonSchema => ({ type: 'object', required: ['mnist', 'fashion'], additionalProperties: false, properties: { mnist: pair(item), fashion: pair(item) } });
const phases: JsonSchema = { type: 'array', items: { type: 'string', enum: ['mnist', 'fashion', 'stitch'] }, maxItems: 3 };
const perPhaseInt: JsonSchema = {
  type: 'object',
  required: ['mnist', 'fashion', 'stitch'],
  properties: { mnist: { type: 'integer', minimum: 0 }, fashion: { type: 'integer', minimum: 0 }, stitch: { type: 'integer', minimum: 0 } },
};

/** The output of `xs train --json`. */
export const TRAIN_JSON_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://xs.invalid/schemas/train-output.json',
  title: 'xs train --json',
  description: 'One object on stdout. A complete run carries results (test accuracies in percent), the notebook numbers and their differences.',
  type: 'object',
  required: ['command', 'status', 'variant', 'backend', 'runDir', 'config', 'timings', 'phasesDone', 'resumedPhases'],
  additionalProperties: false,
  properties: {
    command: { type: 'string', enum: ['train'] },
    status: { type: 'string', enum: ['complete', 'incomplete', 'failed'] },
    error: { type: 'string' },
    variant: { type: 'string', enum: ['seed'] },
    backend: { type: 'string', enum: ['cpu', 'gpu'] },
    runDir: { type: 'string', pattern: '\\S' },
    config: {
      type: 'object',
      required: ['seed', 'lr', 'batchSize', 'epochs', 'batchesPerEpoch', 'stitchSamples', 'hidden'],
      properties: {
        seed: { type: 'integer', minimum: 0 },
        lr: { type: 'number', minimum: 0 },
        batchSize: { type: 'integer', minimum: 1 },
        epochs: perPhaseInt,
        batchesPerEpoch: perPhaseInt,
        stitchSamples: { type: 'integer', minimum: 1 },
        hidden: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 2, maxItems: 2 },
      },
    },
    results: perTask(percent),
    notebook: perTask(percent),
    difference: perTask({ type: 'number', minimum: -100, maximum: 100 }),
    timings: {
      type: 'object',
      required: ['total'],
      additionalProperties: { type: 'number', minimum: 0 },
      description: 'seconds per phase (mnist, fashion, stitch), data loading, evaluation, ..., and total',
    },
    peakRssMB: { type: 'number', minimum: 0, description: 'peak resident memory of the process (worker threads included), MB' },
    phasesDone: phases,
    resumedPhases: phases,
    files: { type: 'array', items: { type: 'string' } },
  },
  if: { properties: { status: { enum: ['complete'] } } },
  then: {
    required: ['results', 'notebook', 'difference', 'files'],
    properties: { timings: { type: 'object', required: ['total', 'mnist', 'fashion', 'stitch'] } },
  },
};

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

/**
 * Validate `value` against `schema`; returns the problems found (empty when valid), each as `path: message`.
 * @example validateJson(TRAIN_JSON_SCHEMA, JSON.parse(stdout)) // []
 */
export function validateJson(schema: JsonSchema, value: unknown, path = '$'): string[] {
  const errs: string[] = [];
  if (schema.type !== undefined) {
    const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((t) => typeMatches(value, t))) return [`${path}: expected ${types.join(' or ')}, got ${typeOf(value)}`];
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) errs.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errs.push(`${path}: ${value} is below the minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errs.push(`${path}: ${value} is above the maximum ${schema.maximum}`);
  }
  if (typeof value === 'string' && schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) errs.push(`${path}: "${value}" does not match /${schema.pattern}/`);
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errs.push(`${path}: ${value.length} items, fewer than ${schema.minItems}`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errs.push(`${path}: ${value.length} items, more than ${schema.maxItems}`);
    if (schema.items) value.forEach((v, i) => errs.push(...validateJson(schema.items!, v, `${path}[${i}]`)));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) errs.push(`${path}: missing required property "${r}"`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = schema.properties?.[k];
      if (sub) errs.push(...validateJson(sub, v, `${path}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${path}: unexpected property "${k}"`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') errs.push(...validateJson(schema.additionalProperties, v, `${path}.${k}`));
    }
  }
  if (schema.if && schema.then && validateJson(schema.if, value, path).length === 0) errs.push(...validateJson(schema.then, value, path));
  return errs;
}
