import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';

const COPY_CHUNK_BYTES = 256 * 1024;
/** Rounds of copying what the instance wrote while the previous round was copied. */
const CATCH_UP_ROUNDS = 3;

/** `<file>.1` (newest) … `<file>.<keep>` (oldest). */
export function rotatedFile(file: string, generation: number): string {
  return `${file}.${generation}`;
}

/**
 * Rotates `file` when it is larger than `maxBytes`: `.1` … `.<keep>` shift up one (the oldest
 * is deleted), the file's content is copied to `.1`, and the file is truncated in place.
 *
 * Copy-and-truncate, not rename: the instance writes through a file descriptor it inherited
 * (opened O_APPEND, so after the truncation its next write lands at the new end), and it must
 * keep writing while cutover is down, so no helper process sits between it and the file. The
 * cost: lines written between the last copy round and the truncation are lost; the catch-up
 * rounds make that window a few microseconds of writes. Returns whether it rotated.
 */
export async function rotateIfLarger(file: string, maxBytes: number, keep: number): Promise<boolean> {
  const size = await sizeOf(file);
  if (size === undefined || size <= maxBytes) return false;
  await rm(rotatedFile(file, keep), { force: true });
  for (let generation = keep - 1; generation >= 1; generation -= 1) {
    await rename(rotatedFile(file, generation), rotatedFile(file, generation + 1)).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      },
    );
  }
  const source = await open(file, 'r+');
  try {
    const target = await open(rotatedFile(file, 1), 'w');
    try {
      let copied = 0;
      for (let round = 0; round < CATCH_UP_ROUNDS; round += 1) {
        const end = (await source.stat()).size;
        if (end <= copied) break;
        copied = await copyRange(source, target, copied, end);
      }
      await target.sync();
    } finally {
      await target.close();
    }
    await source.truncate(0);
  } finally {
    await source.close();
  }
  return true;
}

async function copyRange(source: FileHandle, target: FileHandle, from: number, to: number): Promise<number> {
  const buffer = Buffer.alloc(Math.min(COPY_CHUNK_BYTES, to - from));
  let position = from;
  while (position < to) {
    const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, to - position), position);
    if (bytesRead === 0) break;
    await target.write(buffer, 0, bytesRead);
    position += bytesRead;
  }
  return position;
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
