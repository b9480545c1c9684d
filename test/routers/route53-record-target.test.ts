/**
 * What a slot's record names, read from its platform endpoint, and the one spelling of DNS
 * names the read-back compares with.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalDnsName, slotRecordTarget } from '../../src/routers/route53/slot-record-target.js';
import { isCutoverError } from '../../src/shared/errors.js';
import type { SlotEndpoint } from '../../src/shared/slot.js';

const ELB = {
  kind: 'aws-load-balancer',
  id: 'web-green',
  details: {
    region: 'eu-west-1',
    dnsName: 'web-green-1.eu-west-1.elb.amazonaws.com',
    canonicalHostedZoneId: 'Z32O12XQLNTSW2',
    type: 'application',
  },
};

void test('a load balancer is an alias; a DNS name is an alias with a zone, a CNAME without', () => {
  assert.deepEqual(slotRecordTarget('green', ELB), {
    kind: 'alias',
    dnsName: 'web-green-1.eu-west-1.elb.amazonaws.com',
    hostedZoneId: 'Z32O12XQLNTSW2',
  });
  assert.deepEqual(
    slotRecordTarget('blue', {
      kind: 'dns-name',
      id: 'd111.cloudfront.net',
      details: { hostedZoneId: 'Z2FDTNDATAQYW2' },
    }),
    {
      kind: 'alias',
      dnsName: 'd111.cloudfront.net',
      hostedZoneId: 'Z2FDTNDATAQYW2',
    },
  );
  assert.deepEqual(slotRecordTarget('blue', { kind: 'dns-name', id: 'blue.example.net' }), {
    kind: 'cname',
    dnsName: 'blue.example.net',
  });
});

void test('malformed endpoints are refused with CUTOVER_E_ROUTER naming the slot', () => {
  const hostile: SlotEndpoint[] = [
    { ...ELB, details: { ...ELB.details, type: 'gateway' } },
    { ...ELB, details: { ...ELB.details, dnsName: 'evil name\r\nx' } },
    { ...ELB, details: { ...ELB.details, dnsName: `${'a'.repeat(64)}.com` } },
    { ...ELB, details: { ...ELB.details, canonicalHostedZoneId: 'z lower' } },
    { ...ELB, details: {} },
    { kind: 'dns-name', id: '' },
    { kind: 'dns-name', id: 'x'.repeat(10_000) },
    { kind: 'dns-name', id: 'ok.example.com', details: { hostedZoneId: '<Zone/>' } },
    { kind: 'aws-asg', id: 'web' },
  ];
  for (const endpoint of hostile) {
    assert.throws(
      () => slotRecordTarget('green', endpoint),
      (error: unknown) => isCutoverError(error, 'CUTOVER_E_ROUTER') && /green/.test(error.message),
      JSON.stringify(endpoint).slice(0, 80),
    );
  }
});

void test('names compare without case, trailing dot, dualstack prefix or Route 53’s octal wildcard', () => {
  assert.equal(
    normalDnsName('DualStack.Web-1.EU-WEST-1.elb.amazonaws.com.'),
    'web-1.eu-west-1.elb.amazonaws.com',
  );
  assert.equal(normalDnsName('\\052.example.com.'), '*.example.com');
  assert.equal(normalDnsName('www.example.com'), 'www.example.com');
});
