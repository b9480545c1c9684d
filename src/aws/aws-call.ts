/**
 * One AWS call with a name and a deadline, so a failure says which call failed and why, with a
 * stable code, and never carries the request (which may hold signed headers) into the message.
 * The deadline covers the whole call, body included: the SDK's own request timeout stops at
 * the response head, so an endpoint that drips a body forever would otherwise hold the call.
 */
import { CutoverError, type ErrorCode } from '../shared/errors.js';

export const AWS_CALL_TIMEOUT_MS_DEFAULT = 30_000;

/** The call deadline of each client, set where the client is made (callTimeout of the config). */
const deadlines = new WeakMap<object, number>();

/** Gives every call made through `client` this deadline; returns the client. */
export function withCallTimeout<C extends object>(client: C, ms: number): C {
  deadlines.set(client, ms);
  return client;
}

export async function awsCall<T>(
  what: string,
  client: object,
  call: (abortSignal: AbortSignal) => Promise<T>,
  code: ErrorCode = 'CUTOVER_E_ROUTER',
): Promise<T> {
  const ms = deadlines.get(client) ?? AWS_CALL_TIMEOUT_MS_DEFAULT;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no complete answer within ${ms} ms`);
      error.name = 'CallTimeout';
      abort.abort(error);
      reject(error);
    }, ms);
  });
  const running = call(abort.signal);
  // Observed either way: after the deadline wins, the aborted call's rejection lands here.
  running.catch(() => {});
  try {
    return await Promise.race([running, expired]);
  } catch (error) {
    throw new CutoverError(code, `${what} failed: ${describeAwsError(error)}`, {
      cause: error,
      details: { call: what, awsError: awsErrorName(error) },
    });
  } finally {
    clearTimeout(timer);
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
