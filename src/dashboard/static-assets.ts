/**
 * The page's scripts and stylesheet, read once at start from the `page/` folder next to this
 * file (copied beside the built code by `npm run build`). Only names found there are served,
 * so no request path reaches the file system.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface StaticAsset {
  readonly type: string;
  readonly body: Buffer;
}

export const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));

export function loadStaticAssets(dir: string = PAGE_DIR): ReadonlyMap<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (type !== undefined) assets.set(name, { type, body: readFileSync(path.join(dir, name)) });
  }
  return assets;
}

export function sendAsset(response: ServerResponse, asset: StaticAsset): void {
  response.writeHead(200, {
    'content-type': asset.type,
    'content-length': asset.body.length,
    'cache-control': 'no-cache',
  });
  response.end(asset.body);
}
