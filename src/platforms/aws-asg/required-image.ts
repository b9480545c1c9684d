import { CutoverError } from '../../shared/errors.js';
import type { AwsAsgPlatformConfig } from './config.js';

/** The schema requires `image` in mode replica-group; a config built around it is a bug, said so. */
export function requiredImage(config: AwsAsgPlatformConfig): NonNullable<AwsAsgPlatformConfig['image']> {
  if (config.image === undefined) {
    throw new CutoverError('CUTOVER_E_CONFIG', 'platform.image is required in mode replica-group');
  }
  return config.image;
}
