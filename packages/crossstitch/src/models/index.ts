/** The seed notebook's models: the single-task MLP and the cross-stitch composition of two of them. */
export * from './mlp.js';
export * from './stitch.js';
export * from './cross-stitch.js';
