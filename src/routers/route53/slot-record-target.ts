/**
 * What a slot's record names, read from the slot's platform endpoint: an alias to a load
 * balancer (kind `aws-load-balancer`, agreed with the aws-asg platform's replica-stack mode), or
 * a DNS name (kind `dns-name`): an alias when its hosted zone is given, a CNAME otherwise.
 */
import { CutoverError } from '../../shared/errors.js';
import type { Slot, SlotEndpoint } from '../../shared/slot.js';

export const AWS_LOAD_BALANCER_ENDPOINT = 'aws-load-balancer';
export const DNS_NAME_ENDPOINT = 'dns-name';

export type RecordTarget =
  /** An alias A record: Route 53 answers with the target's addresses (an ELB's: TTL 60 s). */
  | { readonly kind: 'alias'; readonly dnsName: string; readonly hostedZoneId: string }
  /** A CNAME with the router's TTL. */
  | { readonly kind: 'cname'; readonly dnsName: string };

const HOSTED_ZONE_ID = /^[A-Z0-9]{1,32}$/;
const DNS_NAME =
  /^(?=.{1,253}\.?$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$/;

/**
 * A load balancer a plan's provision will make: its DNS name and zone are known only then, so a
 * platform's plan names them `<like this>` with `details.planned: 'true'`; only a plan takes it.
 */
export const PLANNED_ENDPOINT = 'planned';

export function slotRecordTarget(
  slot: Slot,
  endpoint: SlotEndpoint,
  options: { plan?: boolean } = {},
): RecordTarget {
  const refuse = (why: string): never => {
    throw new CutoverError('CUTOVER_E_ROUTER', `${slot}'s ${endpoint.kind} endpoint ${endpoint.id}: ${why}`, {
      details: { slot, endpoint: endpoint.id, kind: endpoint.kind },
    });
  };
  const details = endpoint.details ?? {};
  if (endpoint.kind === AWS_LOAD_BALANCER_ENDPOINT) {
    const { dnsName, canonicalHostedZoneId, type } = details;
    if (options.plan === true && details[PLANNED_ENDPOINT] === 'true') {
      return { kind: 'alias', dnsName: dnsName ?? '', hostedZoneId: canonicalHostedZoneId ?? '' };
    }
    if (type !== 'classic' && type !== 'application') {
      refuse(`details.type must be classic or application, not ${String(type)}`);
    }
    if (dnsName === undefined || !DNS_NAME.test(dnsName)) refuse('details.dnsName is not a DNS name');
    if (canonicalHostedZoneId === undefined || !HOSTED_ZONE_ID.test(canonicalHostedZoneId)) {
      refuse('details.canonicalHostedZoneId is not a hosted zone id');
    }
    return { kind: 'alias', dnsName: dnsName as string, hostedZoneId: canonicalHostedZoneId as string };
  }
  if (endpoint.kind === DNS_NAME_ENDPOINT) {
    if (!DNS_NAME.test(endpoint.id)) refuse('the id is not a DNS name');
    const { hostedZoneId } = details;
    if (hostedZoneId === undefined) return { kind: 'cname', dnsName: endpoint.id };
    if (!HOSTED_ZONE_ID.test(hostedZoneId)) refuse('details.hostedZoneId is not a hosted zone id');
    return { kind: 'alias', dnsName: endpoint.id, hostedZoneId };
  }
  return refuse(`the route53 router takes ${AWS_LOAD_BALANCER_ENDPOINT} or ${DNS_NAME_ENDPOINT} endpoints`);
}

/** The record type a target is written as. */
export function recordType(target: RecordTarget): 'A' | 'CNAME' {
  return target.kind === 'alias' ? 'A' : 'CNAME';
}

/**
 * One spelling of a DNS name for comparisons: Route 53 answers with a trailing dot, writes a
 * wildcard's `*` as the octal escape `\052`, and may store an ELB alias as `dualstack.<name>`.
 */
export function normalDnsName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\\052/g, '*')
    .replace(/\.$/, '')
    .replace(/^dualstack\./, '');
}

export function describeTarget(target: RecordTarget): string {
  return target.kind === 'alias' ? `alias ${target.dnsName}` : `CNAME ${target.dnsName}`;
}
