import {
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeLaunchTemplatesCommand,
  type EC2Client,
  type LaunchTemplate,
  type RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import { isAwsError } from '../../aws/aws-error-name.js';
import { CUTOVER_TAG } from '../../aws/cutover-tags.js';
import type { Slot } from '../../shared/slot.js';
import { createLaunchTemplateCall, deleteLaunchTemplateCall } from './replica-group-calls.js';

export interface TemplateVersion {
  readonly id: string;
  readonly name: string;
  /** Always an explicit number: a group never follows `$Latest` or `$Default` by accident. */
  readonly version: string;
}

/**
 * The launch template named `name`, created with the full launch data when it does not exist
 * yet (a resumed provision finds the one its first attempt made). Each group has a template of
 * its own, so deleting the group's template deletes exactly the versions cutover created.
 */
export async function ensureLaunchTemplate(
  ec2: EC2Client,
  name: string,
  data: RequestLaunchTemplateData,
  tags: { Key: string; Value: string }[],
): Promise<TemplateVersion> {
  const existing = await findTemplateByName(ec2, name);
  if (existing !== undefined) return versionOf(existing);
  try {
    const created = await ec2.send(
      new CreateLaunchTemplateCommand(createLaunchTemplateCall(name, data, tags).input),
    );
    return versionOf(created.LaunchTemplate!);
  } catch (error) {
    // Another attempt created it between our read and our create.
    if (!isAwsError(error, 'InvalidLaunchTemplateName.AlreadyExistsException')) throw error;
    const raced = await findTemplateByName(ec2, name);
    if (raced === undefined) throw error;
    return versionOf(raced);
  }
}

/** Every launch template cutover created for the app (one slot's when `slot` is given). */
export async function templatesOf(ec2: EC2Client, app: string, slot?: Slot): Promise<LaunchTemplate[]> {
  const filters = [{ Name: `tag:${CUTOVER_TAG.app}`, Values: [app] }];
  if (slot !== undefined) filters.push({ Name: `tag:${CUTOVER_TAG.slot}`, Values: [slot] });
  const found: LaunchTemplate[] = [];
  let token: string | undefined;
  do {
    const page = await ec2.send(new DescribeLaunchTemplatesCommand({ Filters: filters, NextToken: token }));
    found.push(...(page.LaunchTemplates ?? []));
    token = page.NextToken;
  } while (token);
  return found;
}

/** Deletes the template with every version in it; one that is already gone is fine. */
export async function deleteLaunchTemplate(ec2: EC2Client, id: string): Promise<void> {
  try {
    await ec2.send(new DeleteLaunchTemplateCommand(deleteLaunchTemplateCall(id).input));
  } catch (error) {
    if (!isAwsError(error, 'InvalidLaunchTemplateId.NotFound', 'InvalidLaunchTemplateName.NotFoundException'))
      throw error;
  }
}

async function findTemplateByName(ec2: EC2Client, name: string): Promise<LaunchTemplate | undefined> {
  try {
    const answer = await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [name] }));
    return answer.LaunchTemplates?.[0];
  } catch (error) {
    if (isAwsError(error, 'InvalidLaunchTemplateName.NotFoundException', 'InvalidLaunchTemplateId.NotFound'))
      return undefined;
    throw error;
  }
}

function versionOf(template: LaunchTemplate): TemplateVersion {
  return {
    id: template.LaunchTemplateId!,
    name: template.LaunchTemplateName!,
    version: String(template.LatestVersionNumber ?? 1),
  };
}
