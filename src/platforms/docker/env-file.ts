import { readFile } from 'node:fs/promises';
import { CutoverError } from '../../shared/errors.js';

/**
 * Reads a file in `docker run --env-file` format: KEY=VALUE per line, `#` comments and blank
 * lines ignored, values taken literally (no quotes removed, no expansion).
 */
export async function readEnvFile(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CutoverError(
      'CUTOVER_E_CONFIG',
      `platform.envFiles: cannot read ${file}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const env: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) return;
    const equals = line.indexOf('=');
    const key = equals === -1 ? line.trim() : line.slice(0, equals).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new CutoverError(
        'CUTOVER_E_CONFIG',
        `${file}:${i + 1}: "${key}" is not a variable name (KEY=VALUE)`,
      );
    }
    // A bare KEY passes cutover's own value through, as docker does.
    if (equals === -1) {
      const inherited = process.env[key];
      if (inherited !== undefined) env[key] = inherited;
      return;
    }
    env[key] = line.slice(equals + 1);
  });
  return env;
}
