/**
 * One AWS call with a name, so a failure says which call failed and why, with a stable code,
 * and never carries the request (which may hold signed headers) into the message.
 */
import { CutoverError, type ErrorCode } from '../shared/errors.js';

export async function awsCall<T>(
  what: string,
  call: () => Promise<T>,
  code: ErrorCode = 'CUTOVER_E_ROUTER',
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new CutoverError(code, `${what} failed: ${describeAwsError(error)}`, {
      cause: error,
      details: { call: what, awsError: awsErrorName(error) },
    });
  }
}

/** `Name: message` of an SDK error; the message alone for anything else. */
export function describeAwsError(error: unknown): string {
  if (error instanceof Error) {
    const name = awsErrorName(error);
    return name === 'Error' ? error.message : `${name}: ${error.message}`;
  }
  return String(error);
}

function awsErrorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}
