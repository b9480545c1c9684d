/**
 * moto's request recorder read back as Route 53 calls. Route 53 is a REST API (no `Action=`
 * in the body, unlike the Query APIs moto-recorder.ts reads), so the call is told from the
 * method and path, and a change batch from its XML body.
 */
import assert from 'node:assert/strict';

export { startRecording } from './moto-recorder.js';

export interface Route53Call {
  /** `route53:ChangeResourceRecordSets` … (the IAM action name). */
  readonly action: string;
  /** For a change batch: `UPSERT A www.example.com [app-blue 255]` per change, in order. */
  readonly changes?: readonly string[];
}

export async function recordedRoute53Calls(endpoint: string): Promise<Route53Call[]> {
  const response = await fetch(`${endpoint}/moto-api/recorder/download-recording`);
  const text = await response.text();
  assert.ok(response.ok, `moto recorder answered ${response.status}`);
  const calls: Route53Call[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const entry = JSON.parse(line) as { method: string; url: string; body?: string; body_encoded?: boolean };
    const path = new URL(entry.url).pathname;
    if (!path.startsWith('/2013-04-01/')) continue;
    const body =
      entry.body_encoded === true
        ? Buffer.from(entry.body ?? '', 'base64').toString('utf8')
        : (entry.body ?? '');
    calls.push(route53Call(entry.method, path, body));
  }
  return calls;
}

function route53Call(method: string, path: string, body: string): Route53Call {
  if (/\/rrset\/?$/.test(path) && method === 'POST') {
    return { action: 'route53:ChangeResourceRecordSets', changes: changesOf(body) };
  }
  if (/\/rrset\/?$/.test(path)) return { action: 'route53:ListResourceRecordSets' };
  if (/\/change\/[^/]+$/.test(path)) return { action: 'route53:GetChange' };
  if (/\/hostedzone\/[^/]+$/.test(path) && method === 'GET') return { action: 'route53:GetHostedZone' };
  if (/\/hostedzone\/?$/.test(path) && method === 'POST') return { action: 'route53:CreateHostedZone' };
  return { action: `route53:${method} ${path}` };
}

function changesOf(xml: string): string[] {
  return [...xml.matchAll(/<Change>([\s\S]*?)<\/Change>/g)].map(([, change = '']) => {
    const field = (name: string): string => new RegExp(`<${name}>([^<]*)</${name}>`).exec(change)?.[1] ?? '';
    const id = field('SetIdentifier');
    const routing = id === '' ? '' : ` [${id} ${field('Weight')}]`;
    return `${field('Action')} ${field('Type')} ${field('Name')}${routing}`;
  });
}

/** Only the change batches, as their list of changes. */
export function changeBatches(calls: readonly Route53Call[]): (readonly string[])[] {
  return calls.flatMap((call) => (call.changes === undefined ? [] : [call.changes]));
}
