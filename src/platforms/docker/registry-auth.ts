import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type Docker from 'dockerode';
import { CutoverError } from '../../shared/errors.js';
import type { DockerPlatformConfig } from './config.js';

/**
 * Registry credentials for pulls, read when needed and never kept in logs or errors: only
 * where they come from (the file or variable name) is ever named.
 */
export async function loadRegistryAuth(
  source: DockerPlatformConfig['registryAuth'],
  baseDir: string,
): Promise<Docker.AuthConfig | undefined> {
  if (!source) return undefined;
  const where = 'file' in source ? `file ${source.file}` : `environment variable ${source.env}`;
  let text: string | undefined;
  if ('file' in source) {
    text = await readFile(resolve(baseDir, source.file), 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CutoverError(
        'CUTOVER_E_CONFIG',
        `platform.registryAuth: cannot read the ${where} (${error.code})`,
      );
    });
  } else {
    text = process.env[source.env];
    if (text === undefined) {
      throw new CutoverError('CUTOVER_E_CONFIG', `platform.registryAuth: the ${where} is not set`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message may quote the secret: only say where it came from.
    throw new CutoverError('CUTOVER_E_CONFIG', `platform.registryAuth: the ${where} is not JSON`);
  }
  const auth = parsed as { username?: unknown; password?: unknown; serveraddress?: unknown } | null;
  if (!auth || typeof auth.username !== 'string' || typeof auth.password !== 'string') {
    throw new CutoverError(
      'CUTOVER_E_CONFIG',
      `platform.registryAuth: the ${where} must hold {"username", "password", "serveraddress"}`,
    );
  }
  return {
    username: auth.username,
    password: auth.password,
    serveraddress: typeof auth.serveraddress === 'string' ? auth.serveraddress : '',
  };
}
