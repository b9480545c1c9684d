/**
 * The tags cutover puts on every AWS resource it creates (groups, their instances, launch
 * templates, images), so a restarted or resumed cutover finds them again by tag and never
 * creates a duplicate. Keys use the `cutover:` prefix (AWS reserves only `aws:`).
 */
export const CUTOVER_TAG = {
  app: 'cutover:app',
  slot: 'cutover:slot',
  release: 'cutover:release',
  deployment: 'cutover:deployment',
} as const;

export interface CutoverTagValues {
  readonly app: string;
  readonly slot: string;
  readonly release: string;
  /** Absent when a resource is created outside a deployment (tests, a manual provision). */
  readonly deployment?: string | undefined;
}

/** `[{ Key, Value }]` for the values given, in a stable order. */
export function cutoverTags(values: CutoverTagValues): { Key: string; Value: string }[] {
  const tags: { Key: string; Value: string }[] = [
    { Key: CUTOVER_TAG.app, Value: values.app },
    { Key: CUTOVER_TAG.slot, Value: values.slot },
    { Key: CUTOVER_TAG.release, Value: values.release },
  ];
  if (values.deployment !== undefined) tags.push({ Key: CUTOVER_TAG.deployment, Value: values.deployment });
  return tags;
}

/** The value of `key` in an AWS tag list, if present. */
export function tagValue(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
  key: string,
): string | undefined {
  return tags?.find((tag) => tag.Key === key)?.Value;
}
