/**
 * The bearer token a Prometheus server (or the proxy in front of it) wants, from `tokenFile`.
 * Read at each query, so a rotated token is picked up without a restart; the messages name the
 * file, never what it holds.
 */
import { readFile } from 'node:fs/promises';
import { CutoverError } from '../../shared/errors.js';

/** RFC 6750's token characters, loosely: visible ASCII, no spaces (a header must not be split). */
const TOKEN = /^[\x21-\x7e]{1,8192}$/;

export async function readBearerToken(source: string, file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CutoverError(
      'CUTOVER_E_ANALYSIS_PROVIDER',
      `${source}: cannot read tokenFile ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
  const token = text.split(/\r?\n/, 1)[0]!.trim();
  if (!TOKEN.test(token))
    throw new CutoverError(
      'CUTOVER_E_ANALYSIS_PROVIDER',
      `${source}: tokenFile ${file} does not start with a token (one line of visible ASCII characters)`,
    );
  return token;
}
