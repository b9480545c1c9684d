/**
 * The preview token: the secret a request must carry in the preview header to reach the idle
 * slot through the public listener (every router compares it exactly). It is its own random
 * secret per app, never the admin token: whoever may run a smoke test gets the unverified
 * release, not control of the deployments. Stored like the admin token (`preview-token`, mode
 * 0600 in the state directory); CUTOVER_PREVIEW_TOKEN overrides it (several cutover servers
 * in front of one shared router, or a token kept in a secret store).
 */
import { CutoverError } from '../shared/errors.js';
import { loadOrCreateSecret, secretPath, type SecretFile } from './secret-file.js';

export const PREVIEW_TOKEN_FILE = 'preview-token';

const PREVIEW_TOKEN: SecretFile = {
  file: PREVIEW_TOKEN_FILE,
  env: 'CUTOVER_PREVIEW_TOKEN',
  what: 'preview token',
};

/**
 * The token travels into nginx, HAProxy, VCL and Caddy config as it is: only characters none of
 * them quotes or reads as a pattern, and long enough not to be guessed (22 base64url
 * characters hold 128 bits; a generated token has 43).
 */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{22,256}$/;

export function previewTokenPath(stateDir: string): string {
  return secretPath(stateDir, PREVIEW_TOKEN);
}

/** CUTOVER_PREVIEW_TOKEN, else the stored token, else a new one stored with mode 0600. */
export function loadOrCreatePreviewToken(stateDir: string): string {
  const token = loadOrCreateSecret(stateDir, PREVIEW_TOKEN);
  if (!TOKEN_SHAPE.test(token)) {
    const from = process.env.CUTOVER_PREVIEW_TOKEN ? 'CUTOVER_PREVIEW_TOKEN' : previewTokenPath(stateDir);
    throw new CutoverError(
      'CUTOVER_E_CONFIG',
      `the preview token in ${from} must be 22 to 256 characters of A-Z, a-z, 0-9, _ and - (it is written into the router's config); unset it or delete the file to get a generated one`,
    );
  }
  return token;
}
