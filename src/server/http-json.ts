import type { IncomingMessage, ServerResponse } from 'node:http';
import { CutoverError, type ErrorCode } from '../shared/errors.js';

const MAX_BODY_BYTES = 64 * 1024;

/** Reads a JSON object body; anything else is a 400 with a message that says what was wrong. */
export async function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new CutoverError('CUTOVER_E_BAD_REQUEST', `request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CutoverError(
      'CUTOVER_E_BAD_REQUEST',
      `request body is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CutoverError('CUTOVER_E_BAD_REQUEST', 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  response.end(payload);
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  CUTOVER_E_UNAUTHORIZED: 401,
  CUTOVER_E_BAD_REQUEST: 400,
  CUTOVER_E_USAGE: 400,
  CUTOVER_E_NOT_FOUND: 404,
  CUTOVER_E_LOCKED: 409,
  CUTOVER_E_INVALID_STATE: 409,
  CUTOVER_E_PHASE_CHANGED: 409,
  CUTOVER_E_HEALTH: 422,
  CUTOVER_E_PROVISION: 422,
  CUTOVER_E_LEASE_LOST: 409,
  CUTOVER_E_SHUTTING_DOWN: 503,
};

export function sendError(response: ServerResponse, error: CutoverError): void {
  sendJson(response, STATUS_BY_CODE[error.code] ?? 500, { error: error.toJSON() });
}
