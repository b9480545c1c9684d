/**
 * Compiles the bench child scripts (and what they import from src/) to plain JavaScript with
 * tsc, so the measured processes run as cutover does in production: without the tsx loader,
 * whose module-hooks thread alone adds tens of MB of RSS and some CPU.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
/** Inside node_modules so the compiled files resolve the repo's packages. */
export const COMPILED_DIR = path.join(repo, 'node_modules/.cache/cutover-bench');

/** The tsc options of a bench build: plain ES modules for Node, no tsconfig, `root` kept as the layout. */
export function tscOptions(outDir: string, root: string): string[] {
  return [
    '--ignoreConfig',
    '--outDir',
    outDir,
    '--rootDir',
    root,
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
    '--skipLibCheck',
    '--esModuleInterop',
    '--types',
    'node',
  ];
}

export function compileBenchChildren(): void {
  rmSync(COMPILED_DIR, { recursive: true, force: true });
  mkdirSync(COMPILED_DIR, { recursive: true });
  const result = spawnSync(
    path.join(repo, 'node_modules/.bin/tsc'),
    [
      ...tscOptions(COMPILED_DIR, repo),
      path.join(repo, 'bench/lib/cutover-proxy-child.ts'),
      path.join(repo, 'bench/lib/http-proxy-child.ts'),
      // Spawned by path, not imported: the builtin router's proxy worker entry.
      path.join(repo, 'src/routers/builtin/worker/worker-main.ts'),
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0)
    throw new Error(`tsc could not compile the bench children:\n${result.stdout}${result.stderr}`);
  writeFileSync(path.join(COMPILED_DIR, 'package.json'), '{ "type": "module" }\n');
}

export function compiledChild(script: string): string {
  return path.join(COMPILED_DIR, 'bench/lib', script.replace(/\.ts$/, '.js'));
}
