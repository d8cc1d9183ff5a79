import { runSeedExperiment } from '@xs/crossstitch';
const t0 = performance.now();
const log: string[] = [];
const r = await runSeedExperiment({}, { progressEvery: 50, onProgress: (e: any) => { log.push(`${e.phase} ${e.step ?? ''} ${(performance.now() - t0).toFixed(0)}`); } });
console.log(JSON.stringify(r.timings));
const by: Record<string, string[]> = {};
for (const l of log) { const [p, s, t] = l.split(' '); (by[p] ??= []).push(`${s}:${t}`); }
for (const p in by) console.log(p, by[p].join(' '));
