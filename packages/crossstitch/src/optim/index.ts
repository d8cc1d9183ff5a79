/**
 * Optimisers (optax-like, pure functions on pytrees) and learning-rate schedules.
 */
export * from './optimizers.js';
export * from './schedules.js';
