import { open } from 'node:fs/promises';

const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** The last `count` lines of a file (without a trailing empty line); [] when the file is missing. */
export async function tailLines(file: string, count: number): Promise<string[]> {
  if (count <= 0) return [];
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    const { size } = await handle.stat();
    let position = size;
    const chunks: Buffer[] = [];
    let newlines = 0;
    // Read backwards until there are enough line breaks; decode once so no character is split.
    while (position > 0 && newlines <= count) {
      const length = Math.min(CHUNK_BYTES, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, position);
      chunks.unshift(chunk);
      for (const byte of chunk) if (byte === NEWLINE) newlines += 1;
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-count);
  } finally {
    await handle.close();
  }
}
