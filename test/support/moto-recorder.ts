/**
 * moto's request recorder (`/moto-api/recorder/…`), read back as the list of AWS actions that
 * reached moto, in order: tests assert the order of calls where moto cannot show the moment in
 * between (a Classic ELB with two groups attached).
 */
import assert from 'node:assert/strict';

export interface AwsCall {
  /** `AttachLoadBalancerTargetGroups` … */
  readonly action: string;
  /** The group the call names, when it names one. */
  readonly group?: string;
}

export async function startRecording(endpoint: string): Promise<void> {
  await motoApi(endpoint, 'reset-recording', 'POST');
  await motoApi(endpoint, 'start-recording', 'POST');
}

/** One recorded request: its action and every form parameter it sent (Action and Version too). */
export interface AwsRequest {
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
}

/** The requests recorded since startRecording, oldest first, with their parameters. */
export async function recordedRequests(endpoint: string): Promise<AwsRequest[]> {
  const text = await motoApi(endpoint, 'download-recording', 'GET');
  const requests: AwsRequest[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const entry = JSON.parse(line) as {
      body?: string;
      body_encoded?: boolean;
      method?: string;
      url?: string;
      headers?: Record<string, string>;
    };
    const body =
      entry.body_encoded === true
        ? Buffer.from(entry.body ?? '', 'base64').toString('utf8')
        : (entry.body ?? '');
    const other = jsonOrRestRequest(entry, body);
    if (other !== undefined) {
      requests.push(other);
      continue;
    }
    const params = new URLSearchParams(body);
    const action = params.get('Action');
    if (action === null) continue;
    requests.push({ action, params: Object.fromEntries(params) });
  }
  return requests;
}

/** The calls recorded since startRecording, oldest first. */
export async function recordedCalls(endpoint: string): Promise<AwsCall[]> {
  return (await recordedRequests(endpoint)).map(({ action, params }) => {
    const group = params.AutoScalingGroupName ?? params['AutoScalingGroupNames.member.1'];
    return group === undefined ? { action } : { action, group };
  });
}

/** Only the calls that change something (not Describe…), as `Action group`. */
export function changes(calls: readonly AwsCall[]): string[] {
  return calls
    .filter((call) => !call.action.startsWith('Describe'))
    .map((call) => (call.group === undefined ? call.action : `${call.action} ${call.group}`));
}

async function motoApi(endpoint: string, verb: string, method: 'GET' | 'POST'): Promise<string> {
  const response = await fetch(`${endpoint}/moto-api/recorder/${verb}`, { method });
  const text = await response.text();
  assert.ok(response.ok, `moto recorder ${verb} answered ${response.status}`);
  return text;
}

/**
 * The requests of the two other protocols the recipes use, with their values flattened like the
 * query protocol's: CloudWatch's JSON (the action in X-Amz-Target) and Route 53's change batch
 * (REST with an XML body; the zone id from the path). Undefined for anything else.
 */
function jsonOrRestRequest(
  entry: { method?: string; url?: string; headers?: Record<string, string> },
  body: string,
): AwsRequest | undefined {
  const target = Object.entries(entry.headers ?? {}).find(
    ([key]) => key.toLowerCase() === 'x-amz-target',
  )?.[1];
  if (target !== undefined && body.startsWith('{')) {
    const params: Record<string, string> = {};
    flatten(JSON.parse(body) as unknown, '', params);
    return { action: target.slice(target.lastIndexOf('.') + 1), params };
  }
  const path = entry.url === undefined ? '' : new URL(entry.url).pathname;
  const zone = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(path)?.[1];
  if (zone !== undefined && entry.method === 'POST') {
    const params: Record<string, string> = { HostedZoneId: zone };
    let index = 0;
    for (const match of body.matchAll(/<([A-Za-z]+)>([^<]+)<\/\1>/g))
      params[`${match[1]}.${index++}`] = match[2]!;
    return { action: 'ChangeResourceRecordSets', params };
  }
  return undefined;
}

function flatten(value: unknown, key: string, into: Record<string, string>): void {
  if (Array.isArray(value)) value.forEach((item, index) => flatten(item, `${key}.${index + 1}`, into));
  else if (typeof value === 'object' && value !== null) {
    for (const [inner, item] of Object.entries(value))
      flatten(item, key === '' ? inner : `${key}.${inner}`, into);
  } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    into[key] = String(value);
  }
}
