import { readFile } from 'node:fs/promises';

/**
 * A file's text, or undefined when it does not exist (yet): routers that own a file on disk
 * treat a missing one as "first run", and every other read error as a real failure.
 */
export async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
