#!/usr/bin/env node
/**
 * The `xs` program's entry. For `train` with the nets side by side, it first starts the two net workers
 * (@xs/crossstitch/prestart), so that they import the library while this thread imports the rest of the
 * program (run.ts): the whole run about 0.1 s shorter. Every other command goes straight on.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { prestartNetWorkers } from '@xs/crossstitch/prestart';
import { trainsNetsSideBySide } from './prestart.js';

if (trainsNetsSideBySide(process.argv.slice(2), process.env, availableParallelism())) prestartNetWorkers();
// The build's one-file bundle of the program (scripts/bundle.mjs) where there is one: it imports in about a third
// of the time of its ~80 modules.
const bundle = new URL('./run.bundle.js', import.meta.url);
await import(existsSync(fileURLToPath(bundle)) ? bundle.href : './run.js');
