/**
 * The local side of a release upload: the configured tarball, or a directory packed into a
 * temporary tarball, with its sha256 (checked again on each host after the upload).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CutoverError } from '../../shared/errors.js';
import { fillPlaceholders } from './shell-quote.js';

export interface PreparedArtifact {
  readonly file: string;
  readonly sha256: string;
  readonly gzip: boolean;
  readonly bytes: number;
  /** Removes the temporary tarball packed from a directory (nothing for a configured tarball). */
  dispose(): Promise<void>;
}

/** The artifact path of `release` (absolute). */
export function artifactPath(pattern: string, baseDir: string, release: string): string {
  return resolve(baseDir, fillPlaceholders(pattern, { RELEASE: release }));
}

/** Throws CUTOVER_E_NOT_FOUND when the release's artifact is missing. */
export async function requireArtifact(
  pattern: string,
  baseDir: string,
  release: string,
): Promise<'file' | 'directory'> {
  const path = artifactPath(pattern, baseDir, release);
  const info = await stat(path).catch(() => undefined);
  if (info?.isFile()) return 'file';
  if (info?.isDirectory()) return 'directory';
  throw new CutoverError('CUTOVER_E_NOT_FOUND', `release ${release}: no artifact at ${path}`, {
    details: { release, path },
  });
}

export async function prepareArtifact(
  pattern: string,
  baseDir: string,
  release: string,
): Promise<PreparedArtifact> {
  const kind = await requireArtifact(pattern, baseDir, release);
  const path = artifactPath(pattern, baseDir, release);
  if (kind === 'file') return describeFile(path, () => Promise.resolve());
  const dir = await mkdtemp(join(tmpdir(), 'cutover-ssh-artifact-'));
  const file = join(dir, 'release.tar.gz');
  try {
    await packDirectory(path, file);
    return await describeFile(file, () => rm(dir, { recursive: true, force: true }));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function describeFile(file: string, dispose: () => Promise<void>): Promise<PreparedArtifact> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  const handle = await open(file, 'r');
  const magic = Buffer.alloc(2);
  await handle.read(magic, 0, 2, 0).finally(() => handle.close());
  return { file, sha256: hash.digest('hex'), gzip: magic[0] === 0x1f && magic[1] === 0x8b, bytes, dispose };
}

/** `tar -czf FILE -C DIR .` (tar is on every host cutover runs on; no archive library needed). */
function packDirectory(dir: string, file: string): Promise<void> {
  return new Promise((resolvePack, reject) => {
    const child = spawn('tar', ['-czf', file, '-C', dir, '.'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolvePack()
        : reject(new CutoverError('CUTOVER_E_PROVISION', `packing ${dir} failed: ${stderr.trim()}`)),
    );
  });
}
