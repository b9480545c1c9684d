/** The DNS name of an ALB, which the preview URL points at. */
import {
  DescribeLoadBalancersCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCall } from '../../aws/aws-call.js';
import { CutoverError } from '../../shared/errors.js';
import { shortArn } from './forward-site.js';

export async function describeLoadBalancerDns(
  client: ElasticLoadBalancingV2Client,
  arn: string,
): Promise<string> {
  const answer = await awsCall(`DescribeLoadBalancers(${shortArn(arn)})`, client, (abortSignal) =>
    client.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }), { abortSignal }),
  );
  const dns = answer.LoadBalancers?.[0]?.DNSName;
  if (dns === undefined || dns === '') {
    throw new CutoverError('CUTOVER_E_ROUTER', `the load balancer of the listener (${arn}) has no DNS name`);
  }
  return dns;
}
