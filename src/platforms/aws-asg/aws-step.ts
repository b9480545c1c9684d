import { awsCall } from '../../aws/aws-call.js';
import { isAwsError } from '../../aws/aws-error-name.js';
import { CutoverError } from '../../shared/errors.js';

/**
 * One AWS call of a replica-stack provision or teardown, under awsCall's deadline; a failure is
 * CUTOVER_E_PROVISION naming the call, with the SDK error kept as the cause.
 */
export function awsStep<T>(what: string, client: object, call: (abortSignal: AbortSignal) => Promise<T>) {
  return awsCall(what, client, call, 'CUTOVER_E_PROVISION');
}

/** Whether an awsStep failure was AWS answering with one of `names` (NotFound …). */
export function failedWith(error: unknown, ...names: string[]): boolean {
  return error instanceof CutoverError && isAwsError(error.cause, ...names);
}
