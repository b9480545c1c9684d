/**
 * The record sets the router writes and how it reads them back: the slot records of one name
 * (one alias or CNAME in alias mode; one weighted record per slot, identified `<app>-<slot>`, in
 * weighted mode), and which slot a record set names.
 */
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { SLOTS, type Slot } from '../../shared/slot.js';
import { normalDnsName, recordType, type RecordTarget } from './slot-record-target.js';

/** Types a name that users resolve may carry; the zone's NS/SOA/TXT … are never the router's. */
const ROUTED_TYPES = new Set(['A', 'AAAA', 'CNAME']);

/** Set identifiers unique per app: moto's DELETE by identifier removes it under every name. */
export function setIdentifier(app: string, slot: Slot): string {
  return `${app}-${slot}`;
}

/** The record set that points `recordName` at `target`. */
export function recordSetFor(
  recordName: string,
  target: RecordTarget,
  ttlSeconds: number,
  weighted?: { readonly identifier: string; readonly weight: number },
): ResourceRecordSet {
  const routing =
    weighted === undefined ? {} : { SetIdentifier: weighted.identifier, Weight: weighted.weight };
  if (target.kind === 'alias') {
    return {
      Name: recordName,
      Type: recordType(target),
      ...routing,
      AliasTarget: {
        DNSName: target.dnsName,
        HostedZoneId: target.hostedZoneId,
        EvaluateTargetHealth: false,
      },
    };
  }
  return {
    Name: recordName,
    Type: recordType(target),
    ...routing,
    TTL: ttlSeconds,
    ResourceRecords: [{ Value: target.dnsName }],
  };
}

/** The name a record set points at: its alias target or its first value. */
export function pointsAt(set: ResourceRecordSet): string {
  return set.AliasTarget?.DNSName ?? set.ResourceRecords?.[0]?.Value ?? '(no value)';
}

export function namesTarget(set: ResourceRecordSet, target: RecordTarget): boolean {
  if (set.Type !== recordType(target)) return false;
  if (target.kind === 'alias') {
    return (
      set.AliasTarget !== undefined &&
      normalDnsName(set.AliasTarget.DNSName ?? '') === normalDnsName(target.dnsName) &&
      set.AliasTarget.HostedZoneId === target.hostedZoneId
    );
  }
  const values = set.ResourceRecords ?? [];
  return (
    set.AliasTarget === undefined &&
    values.length === 1 &&
    normalDnsName(values[0]?.Value ?? '') === normalDnsName(target.dnsName)
  );
}

/** Which slot's target a record set names, if any. */
export function slotNamedBy(
  set: ResourceRecordSet,
  targets: Partial<Record<Slot, RecordTarget>>,
): Slot | undefined {
  return SLOTS.find((slot) => {
    const target = targets[slot];
    return target !== undefined && namesTarget(set, target);
  });
}

/** The name's record sets that route users: the simple ones, and the weighted ones by identifier. */
export interface NameRecords {
  readonly simple: ResourceRecordSet[];
  readonly weighted: ReadonlyMap<string, ResourceRecordSet>;
  /** Records with other routing policies (latency, failover, geo …): never the router's. */
  readonly other: ResourceRecordSet[];
}

export function sortRecords(sets: readonly ResourceRecordSet[]): NameRecords {
  const simple: ResourceRecordSet[] = [];
  const weighted = new Map<string, ResourceRecordSet>();
  const other: ResourceRecordSet[] = [];
  for (const set of sets) {
    if (!ROUTED_TYPES.has(set.Type ?? '')) continue;
    if (set.SetIdentifier === undefined) simple.push(set);
    else if (set.Weight !== undefined) weighted.set(set.SetIdentifier, set);
    else other.push(set);
  }
  return { simple, weighted, other };
}

export function describeRecord(set: ResourceRecordSet): string {
  const id = set.SetIdentifier === undefined ? '' : ` [${set.SetIdentifier} weight ${String(set.Weight)}]`;
  return `${set.Type ?? '?'}${id} → ${pointsAt(set)}`;
}
