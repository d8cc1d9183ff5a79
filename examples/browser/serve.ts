/**
 * Serve the built browser example on 127.0.0.1: `pnpm --filter @xs/examples browser:serve [-- --port 8080]`
 * (builds it first), then open the printed address. The test uses `serveStatic` the same way.
 */
import { createReadStream, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { DEFAULT_OUT, buildBrowserExample } from './build.js';
import { runIfMain } from '../run.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** A running static server: its base address and how to stop it. */
export interface StaticServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serve the files of `root` (GET only, no directory listings) on 127.0.0.1:`port` (0: any free port). */
export function serveStatic(root: string, port = 0): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    // a request that climbs out of root (../) gets nothing
    const inside = file.startsWith(root.endsWith(sep) ? root : root + sep);
    let ok = false;
    try {
      ok = inside && req.method === 'GET' && statSync(file).isFile();
    } catch {
      ok = false;
    }
    if (!ok) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${p}/`,
        server,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

export async function main(argv: string[] = []): Promise<StaticServer> {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${argv[i + 1]}: expected a port number`);
  const b = await buildBrowserExample(DEFAULT_OUT);
  const s = await serveStatic(b.outdir, port);
  console.log(`serving ${b.outdir} at ${s.url}  (Ctrl-C to stop)`);
  return s;
}

runIfMain(import.meta.url, main);
