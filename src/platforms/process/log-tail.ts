import { open } from 'node:fs/promises';

const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
/**
 * The most bytes one tail reads from one log: however long its lines (an instance that never
 * writes a newline), `logs` holds at most this much per instance in memory.
 */
export const LOG_TAIL_MAX_BYTES = 1024 * 1024;
/** Starts a line the tail cut at LOG_TAIL_MAX_BYTES (its beginning was not read). */
export const CUT_LINE_MARK = '…';

export interface LogTail {
  /** Oldest first, without a trailing empty line. */
  readonly lines: string[];
  /** Bytes read from the file: never more than the cap. */
  readonly bytesRead: number;
}

/**
 * The last `count` lines of a file, read backwards in blocks from its end and never more than
 * `maxBytes` of it; a line longer than what is left of that is returned cut, marked with
 * CUT_LINE_MARK. [] when the file is missing.
 */
export async function tailLines(
  file: string,
  count: number,
  maxBytes: number = LOG_TAIL_MAX_BYTES,
): Promise<LogTail> {
  if (count <= 0) return { lines: [], bytesRead: 0 };
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], bytesRead: 0 };
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const floor = Math.max(0, size - maxBytes);
    let position = size;
    const chunks: Buffer[] = [];
    let newlines = 0;
    while (position > floor && newlines <= count) {
      const length = Math.min(CHUNK_BYTES, position - floor);
      position -= length;
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await handle.read(chunk, 0, length, position);
      const read = chunk.subarray(0, bytesRead);
      chunks.unshift(read);
      for (const byte of read) if (byte === NEWLINE) newlines += 1;
    }
    let bytes = Buffer.concat(chunks);
    const bytesRead = bytes.length;
    const cut = position > 0 && newlines <= count;
    // Decoded once so no character is split; a cut start skips to the next whole character.
    if (cut) bytes = bytes.subarray(firstCharacterStart(bytes));
    const lines = bytes.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const last = lines.slice(-count);
    if (cut && last.length === lines.length && last.length > 0) last[0] = `${CUT_LINE_MARK}${last[0]}`;
    return { lines: last, bytesRead };
  } finally {
    await handle.close();
  }
}

/** Index of the first byte that is not a UTF-8 continuation byte (10xxxxxx). */
function firstCharacterStart(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length && i < 4 && (bytes[i]! & 0xc0) === 0x80) i += 1;
  return i;
}
