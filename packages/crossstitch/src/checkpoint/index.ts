/** Checkpoints: safetensors files of named tensors and of pytrees. */
export * from './safetensors.js';
export * from './pytree.js';
