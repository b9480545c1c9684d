import { DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { isAwsError } from '../../aws/aws-error-name.js';
import { CutoverError } from '../../shared/errors.js';
import type { AwsAsgPlatformConfig } from './config.js';

const RELEASE = /\$\{RELEASE\}/g;

/**
 * The image id `release` runs, read from AWS (an image that is gone fails here, before anything
 * is created). Throws CUTOVER_E_NOT_FOUND when there is none.
 */
export async function releaseImage(
  ec2: EC2Client,
  image: NonNullable<AwsAsgPlatformConfig['image']>,
  release: string,
): Promise<string> {
  if (typeof image === 'string') return imageById(ec2, image.replace(RELEASE, release), release);
  if ('byRelease' in image) {
    const id = image.byRelease[release];
    if (id === undefined) {
      throw new CutoverError(
        'CUTOVER_E_NOT_FOUND',
        `release ${release} has no image in platform.image.byRelease (it lists ${Object.keys(image.byRelease).join(', ') || 'none'})`,
        { details: { release } },
      );
    }
    return imageById(ec2, id, release);
  }
  const name = image.name.replace(RELEASE, release);
  const answer = await ec2.send(
    new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] }),
  );
  const newest = (answer.Images ?? [])
    .filter((found) => found.State === undefined || found.State === 'available')
    .sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''))[0];
  if (newest?.ImageId === undefined) {
    throw new CutoverError(
      'CUTOVER_E_NOT_FOUND',
      `release ${release}: the account owns no available image named "${name}"`,
      { details: { release, imageName: name } },
    );
  }
  return newest.ImageId;
}

async function imageById(ec2: EC2Client, id: string, release: string): Promise<string> {
  const missing = () =>
    new CutoverError('CUTOVER_E_NOT_FOUND', `release ${release}: image ${id} does not exist`, {
      details: { release, image: id },
    });
  if (!/^ami-[0-9a-f]{8,17}$/.test(id)) throw missing();
  try {
    const answer = await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }));
    if ((answer.Images ?? []).length === 0) throw missing();
    return id;
  } catch (error) {
    if (isAwsError(error, 'InvalidAMIID.NotFound', 'InvalidAMIID.Malformed', 'InvalidAMIID.Unavailable'))
      throw missing();
    throw error;
  }
}
