import { CutoverError } from '../shared/errors.js';

const RELEASE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** CUTOVER_E_USAGE unless `release` is a name a deploy accepts (a deploy and its plan check the same). */
export function assertReleaseName(release: string): void {
  if (!RELEASE_NAME.test(release)) {
    throw new CutoverError(
      'CUTOVER_E_USAGE',
      `"${release}" is not a valid release name (letters, digits, ".", "_", "-")`,
    );
  }
}
