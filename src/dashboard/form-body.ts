import type { IncomingMessage } from 'node:http';
import { CutoverError } from '../shared/errors.js';

const MAX_FORM_BYTES = 8 * 1024;

/** An `application/x-www-form-urlencoded` body (the login form), at most 8 KiB. */
export async function readFormBody(request: IncomingMessage): Promise<URLSearchParams> {
  const type = request.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded'))
    throw new CutoverError('CUTOVER_E_BAD_REQUEST', 'the login form must be sent form-encoded');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES)
      throw new CutoverError(
        'CUTOVER_E_BAD_REQUEST',
        `the login form is larger than ${MAX_FORM_BYTES} bytes`,
      );
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
