/**
 * `admin.tls`: the certificate and key the admin listener (admin API and dashboard) serves
 * HTTPS with, read once at start. Paths are relative to the config file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CutoverConfig } from '../config/schema.js';
import { CutoverError } from '../shared/errors.js';

export interface AdminTls {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export function readAdminTls(
  config: Pick<CutoverConfig, 'admin' | 'baseDir' | 'file'>,
): AdminTls | undefined {
  const tls = config.admin.tls;
  if (!tls) return undefined;
  const read = (key: 'cert' | 'key'): Buffer => {
    const file = path.resolve(config.baseDir, tls[key]);
    try {
      return readFileSync(file);
    } catch (error) {
      throw new CutoverError(
        'CUTOVER_E_CONFIG',
        `${config.file}: admin.tls.${key}: cannot read ${file}: ${(error as Error).message}`,
        { cause: error, details: { file: config.file, key: `admin.tls.${key}` } },
      );
    }
  };
  return { cert: read('cert'), key: read('key') };
}
