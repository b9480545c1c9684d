/**
 * Durable replace of a file: write a temp file in the same directory, fsync it, rename it over
 * the target, fsync the directory. A crash at any instant leaves the old content or the new
 * one, never half of it, and the rename survives a power loss once the function returns.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export const DEFAULT_FILE_MODE = 0o644;

export interface DurableWriteOptions {
  /** Mode of the new file, set with fchmod so the umask cannot change it. Default 0644. */
  readonly mode?: number;
  /**
   * Runs on the open temp file before the content goes in (e.g. give it a group with fchown).
   * Throwing stops the write: the target stays as it was and the temp file is removed.
   */
  readonly prepare?: (fd: number) => void;
  /**
   * Called once the temp file is written and synced, and again once it is renamed over the
   * target: the places where the process platform's crash tests kill the writer.
   */
  readonly afterStep?: (step: 'written' | 'renamed') => void;
}

/**
 * A temp name next to `file`, unique per write (two writes in flight never share one) and
 * ending in `.<pid>.tmp`, so a cleanup can tell a dead writer's leftover from a live one's.
 */
export function tempPathFor(file: string): string {
  const name = `.${path.basename(file)}.${randomBytes(4).toString('hex')}.${process.pid}.tmp`;
  return path.join(path.dirname(file), name);
}

/**
 * Writes `content` to a new temp file next to `file` and fsyncs it; the caller renames it over
 * the target with commitTempFile (after validating it in place, if it wants). On error nothing
 * is left behind.
 */
export function writeTempFile(
  file: string,
  content: string | Uint8Array,
  options: DurableWriteOptions = {},
): string {
  const mode = options.mode ?? DEFAULT_FILE_MODE;
  const temp = tempPathFor(file);
  // O_EXCL: a name another writer (or a crash) left is never reused or followed as a symlink.
  const fd = openSync(temp, 'wx', mode);
  try {
    fchmodSync(fd, mode);
    options.prepare?.(fd);
    // writeFileSync on a descriptor loops until every byte is written (writeSync may stop short).
    writeFileSync(fd, content);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  return temp;
}

/**
 * Renames a temp file from writeTempFile over `file` and fsyncs the directory. A failed rename
 * removes the temp file and leaves the target as it was.
 */
export function commitTempFile(temp: string, file: string, afterRename?: () => void): void {
  try {
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  afterRename?.();
  syncDirectory(path.dirname(file));
}

/** Durable replace of `file` (its directory is made if missing). */
export function writeFileAtomic(
  file: string,
  content: string | Uint8Array,
  options: DurableWriteOptions = {},
): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = writeTempFile(file, content, options);
  options.afterStep?.('written');
  commitTempFile(temp, file, () => options.afterStep?.('renamed'));
}

/**
 * The same durable replace without blocking the event loop while the disk syncs: for writes
 * made while cutover's own proxy serves traffic in the same process (the process platform's
 * records during a provision).
 */
export async function writeFileAtomicAsync(
  file: string,
  content: string | Uint8Array,
  options: DurableWriteOptions = {},
): Promise<void> {
  const mode = options.mode ?? DEFAULT_FILE_MODE;
  await mkdir(path.dirname(file), { recursive: true });
  const temp = tempPathFor(file);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.chmod(mode);
    options.prepare?.(handle.fd);
    await handle.writeFile(content);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  options.afterStep?.('written');
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  options.afterStep?.('renamed');
  await syncDirectoryAsync(path.dirname(file));
}

/** Makes a rename (or an unlink) in `dir` durable. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function syncDirectoryAsync(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
