/**
 * The Route 53 calls the router makes, each through awsCall() (a deadline, a stable error):
 * the zone's name, the record sets of one name, a change batch, a change's status.
 */
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type Change,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { awsCall } from '../../aws/aws-call.js';
import { CutoverError } from '../../shared/errors.js';
import { normalDnsName } from './slot-record-target.js';

/** A submitted change: Route 53 answers PENDING until every name server has it, then INSYNC. */
export interface ChangeInfo {
  readonly id: string;
  readonly status: 'PENDING' | 'INSYNC';
}

/** A guard against an endpoint that pages forever: far more records than one name can hold. */
const PAGES_MAX = 100;

/** Where the next page of ListResourceRecordSets starts. */
interface RecordCursor {
  readonly name: string;
  readonly type?: string;
  readonly identifier?: string;
}

export class HostedZoneRecords {
  constructor(
    private readonly client: Route53Client,
    readonly zoneId: string,
  ) {}

  /** The zone's name, without the trailing dot. */
  async zoneName(): Promise<string> {
    const found = await awsCall('route53:GetHostedZone', this.client, (abortSignal) =>
      this.client.send(new GetHostedZoneCommand({ Id: this.zoneId }), { abortSignal }),
    );
    const name = found.HostedZone?.Name;
    if (name === undefined) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `route53:GetHostedZone ${this.zoneId} answered without a zone name`,
      );
    }
    return normalDnsName(name);
  }

  /** Every record set of `name` (all types, all set identifiers), page by page. */
  async recordsNamed(name: string): Promise<ResourceRecordSet[]> {
    const wanted = normalDnsName(name);
    const found: ResourceRecordSet[] = [];
    let start: RecordCursor | undefined = { name: wanted };
    for (let page = 0; start !== undefined && page < PAGES_MAX; page++) {
      const from: RecordCursor = start;
      const answer: ListResourceRecordSetsCommandOutput = await awsCall(
        'route53:ListResourceRecordSets',
        this.client,
        (abortSignal) =>
          this.client.send(
            new ListResourceRecordSetsCommand({
              HostedZoneId: this.zoneId,
              StartRecordName: from.name,
              ...(from.type === undefined ? {} : { StartRecordType: from.type as 'A' }),
              ...(from.identifier === undefined ? {} : { StartRecordIdentifier: from.identifier }),
            }),
            { abortSignal },
          ),
      );
      const sets = answer.ResourceRecordSets ?? [];
      const named = sets.filter((set) => set.Name !== undefined && normalDnsName(set.Name) === wanted);
      found.push(...named);
      // Records come sorted by name: once another name shows up, there are no more of ours.
      const passed = named.length < sets.length;
      start =
        answer.IsTruncated === true && !passed && answer.NextRecordName !== undefined
          ? {
              name: answer.NextRecordName,
              ...(answer.NextRecordType === undefined ? {} : { type: answer.NextRecordType }),
              ...(answer.NextRecordIdentifier === undefined
                ? {}
                : { identifier: answer.NextRecordIdentifier }),
            }
          : undefined;
    }
    return found;
  }

  async change(changes: Change[], comment: string): Promise<ChangeInfo> {
    const answer = await awsCall('route53:ChangeResourceRecordSets', this.client, (abortSignal) =>
      this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: this.zoneId,
          ChangeBatch: { Comment: comment, Changes: changes },
        }),
        { abortSignal },
      ),
    );
    return changeInfo('route53:ChangeResourceRecordSets', answer.ChangeInfo);
  }

  async changeStatus(id: string): Promise<ChangeInfo> {
    const answer = await awsCall('route53:GetChange', this.client, (abortSignal) =>
      this.client.send(new GetChangeCommand({ Id: id }), { abortSignal }),
    );
    return changeInfo('route53:GetChange', answer.ChangeInfo);
  }
}

function changeInfo(call: string, info: { Id?: string; Status?: string } | undefined): ChangeInfo {
  const id = info?.Id?.replace(/^\/change\//, '');
  const status = info?.Status;
  if (id === undefined || id === '' || (status !== 'PENDING' && status !== 'INSYNC')) {
    throw new CutoverError(
      'CUTOVER_E_ROUTER',
      `${call} answered without a change id and a status of PENDING or INSYNC (status: ${String(status).slice(0, 40)})`,
    );
  }
  return { id, status };
}
