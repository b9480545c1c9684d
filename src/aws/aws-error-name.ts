/**
 * The AWS error code of a failed SDK call (`InvalidAMIID.NotFound`, `AlreadyExists` …), read
 * from the SDK's error shape; undefined for anything else (a socket error, a bug).
 */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const shaped = error as { name?: unknown; Code?: unknown; $metadata?: unknown };
  if (shaped.$metadata === undefined) return undefined;
  if (typeof shaped.Code === 'string') return shaped.Code;
  return typeof shaped.name === 'string' ? shaped.name : undefined;
}

/** Whether the SDK error's code is one of `names`. */
export function isAwsError(error: unknown, ...names: string[]): boolean {
  const name = awsErrorName(error);
  return name !== undefined && names.includes(name);
}
