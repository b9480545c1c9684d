/**
 * The answer to CloudFormation: a JSON body PUT to the request's pre-signed URL with an EMPTY
 * Content-Type (the URL's signature covers no content type, and moto matches on it too).
 * CloudFormation refuses a response over 4 KiB, so the reason is cut to fit.
 */
import http from 'node:http';
import https from 'node:https';
import type { RequestEnvelope } from './switch-event.js';

export interface SwitchResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho: false;
  readonly Data: Readonly<Record<string, string>>;
}

/** A bound on the reason so the whole body stays under CloudFormation's 4096-byte limit. */
const MAX_REASON = 1500;
const PUT_TIMEOUT_MS = 10_000;

export function switchResponse(
  envelope: RequestEnvelope,
  outcome: {
    status: 'SUCCESS' | 'FAILED';
    reason: string;
    physicalResourceId: string;
    data?: Record<string, string>;
  },
): SwitchResponse {
  return {
    Status: outcome.status,
    Reason:
      outcome.reason.length > MAX_REASON ? `${outcome.reason.slice(0, MAX_REASON - 1)}…` : outcome.reason,
    PhysicalResourceId: outcome.physicalResourceId,
    StackId: envelope.StackId,
    RequestId: envelope.RequestId,
    LogicalResourceId: envelope.LogicalResourceId,
    NoEcho: false,
    Data: outcome.data ?? {},
  };
}

/** PUTs the response; resolves with the HTTP status, rejects when the URL cannot be reached. */
export function putResponse(url: string, response: SwitchResponse): Promise<number> {
  const body = Buffer.from(JSON.stringify(response), 'utf8');
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      target,
      { method: 'PUT', headers: { 'content-type': '', 'content-length': body.length } },
      (answer) => {
        answer.resume();
        answer.on('end', () => resolve(answer.statusCode ?? 0));
        answer.on('error', reject);
      },
    );
    request.setTimeout(PUT_TIMEOUT_MS, () => request.destroy(new Error(`PUT to the response URL timed out`)));
    request.on('error', reject);
    request.end(body);
  });
}
