/**
 * cutover's bench proxy child built from a given commit, for benches that compare the code
 * before a change with the code now in one run: a detached `git worktree` of the commit in a
 * temp dir (its node_modules a symlink to this checkout's), its children compiled with tsc into
 * a private folder (not the shared one of compile.ts, so two benches never overwrite each other's
 * build), removed again by remove().
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tscOptions } from './compile.js';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export interface BuiltCode {
  /** What was built: a commit, or "working tree". */
  readonly label: string;
  /** The compiled bench/lib/cutover-proxy-child.js. */
  readonly proxyChild: string;
  remove(): void;
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

/** tsc of the proxy child (and the worker entry, where the code has one) into `outDir`. */
function compile(root: string, outDir: string): void {
  const entries = ['bench/lib/cutover-proxy-child.ts', 'src/routers/builtin/worker/worker-main.ts']
    .map((file) => path.join(root, file))
    .filter((file) => existsSync(file));
  run(path.join(REPO, 'node_modules/.bin/tsc'), [...tscOptions(outDir, root), ...entries], root);
  writeFileSync(path.join(outDir, 'package.json'), '{ "type": "module" }\n');
  // The compiled files resolve the packages through this link, whatever their folder.
  symlinkSync(realpathSync(path.join(REPO, 'node_modules')), path.join(outDir, 'node_modules'));
}

/** This checkout's code as it is now. */
export function buildWorkingTree(): BuiltCode {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-now-'));
  compile(REPO, outDir);
  return {
    label: 'working tree',
    proxyChild: path.join(outDir, 'bench/lib/cutover-proxy-child.js'),
    remove: () => rmSync(outDir, { recursive: true, force: true }),
  };
}

/** The code of `commit` (any revision git understands), checked out beside this one. */
export function buildCommit(commit: string): BuiltCode {
  const sha = run('git', ['rev-parse', '--short', commit], REPO);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-then-'));
  const checkout = path.join(dir, 'checkout');
  const outDir = path.join(dir, 'build');
  run('git', ['worktree', 'add', '--detach', checkout, sha], REPO);
  const remove = (): void => {
    spawnSync('git', ['worktree', 'remove', '--force', checkout], { cwd: REPO });
    rmSync(dir, { recursive: true, force: true });
    spawnSync('git', ['worktree', 'prune'], { cwd: REPO });
  };
  try {
    symlinkSync(realpathSync(path.join(REPO, 'node_modules')), path.join(checkout, 'node_modules'));
    compile(checkout, outDir);
  } catch (error) {
    remove();
    throw error;
  }
  return { label: sha, proxyChild: path.join(outDir, 'bench/lib/cutover-proxy-child.js'), remove };
}
