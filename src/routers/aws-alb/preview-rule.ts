/**
 * The preview route on an ALB: one listener rule that matches the preview header carrying the
 * app's token and forwards to one slot's target group only. Found again by its condition (the
 * header name), so a restarted process updates the same rule instead of adding a second one.
 * The token is written into the rule (that is how the ALB compares it) and nowhere else: no
 * log line or error message carries it.
 */
import {
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  ModifyRuleCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
  type Rule,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCall } from '../../aws/aws-call.js';
import { shortArn } from './forward-site.js';

/** AWS's longest http-header condition value. */
export const PREVIEW_TOKEN_MAX = 128;

/** A bound on rule pages, so an endpoint that always answers a NextMarker cannot loop forever. */
const MAX_PAGES = 100;

export interface PreviewRuleSpec {
  readonly listenerArn: string;
  readonly header: string;
  readonly token: string;
  readonly priority: number;
}

/** The listener's preview rule (the one whose condition is the preview header), if any. */
export async function findPreviewRule(
  client: ElasticLoadBalancingV2Client,
  listenerArn: string,
  header: string,
): Promise<Rule | undefined> {
  let marker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await awsCall(`DescribeRules(${shortArn(listenerArn)})`, client, (abortSignal) =>
      client.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker }), { abortSignal }),
    );
    const found = answer.Rules?.find((rule) =>
      (rule.Conditions ?? []).some(
        (condition) =>
          condition.Field === 'http-header' &&
          condition.HttpHeaderConfig?.HttpHeaderName?.toLowerCase() === header.toLowerCase(),
      ),
    );
    if (found !== undefined) return found;
    marker = answer.NextMarker;
    if (marker === undefined || marker === '') return undefined;
  }
  return undefined;
}

/** Points the preview rule at `targetGroupArn`, creating it when the listener has none. */
export async function upsertPreviewRule(
  client: ElasticLoadBalancingV2Client,
  spec: PreviewRuleSpec,
  targetGroupArn: string,
): Promise<void> {
  const conditions: RuleCondition[] = [
    { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: spec.header, Values: [spec.token] } },
  ];
  const actions: Action[] = [{ Type: 'forward', TargetGroupArn: targetGroupArn }];
  const existing = await findPreviewRule(client, spec.listenerArn, spec.header);
  if (existing === undefined) {
    await awsCall(`CreateRule(preview on ${shortArn(spec.listenerArn)})`, client, (abortSignal) =>
      client.send(
        new CreateRuleCommand({
          ListenerArn: spec.listenerArn,
          Priority: spec.priority,
          Conditions: conditions,
          Actions: actions,
        }),
        { abortSignal },
      ),
    );
    return;
  }
  if (forwardsTo(existing) === targetGroupArn && holdsToken(existing, spec)) return;
  await awsCall(`ModifyRule(preview ${shortArn(existing.RuleArn ?? '')})`, client, (abortSignal) =>
    client.send(
      new ModifyRuleCommand({ RuleArn: existing.RuleArn, Conditions: conditions, Actions: actions }),
      {
        abortSignal,
      },
    ),
  );
}

/** Removes the preview rule when it forwards to `targetGroupArn` (that slot is being retired). */
export async function deletePreviewRuleOf(
  client: ElasticLoadBalancingV2Client,
  listenerArn: string,
  header: string,
  targetGroupArn: string,
): Promise<boolean> {
  const existing = await findPreviewRule(client, listenerArn, header);
  if (existing?.RuleArn === undefined || forwardsTo(existing) !== targetGroupArn) return false;
  const ruleArn = existing.RuleArn;
  await awsCall(`DeleteRule(preview ${shortArn(ruleArn)})`, client, (abortSignal) =>
    client.send(new DeleteRuleCommand({ RuleArn: ruleArn }), { abortSignal }),
  );
  return true;
}

function forwardsTo(rule: Rule): string | undefined {
  const forward = rule.Actions?.find((action) => action.Type === 'forward');
  return forward?.TargetGroupArn ?? forward?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
}

function holdsToken(rule: Rule, spec: PreviewRuleSpec): boolean {
  return (rule.Conditions ?? []).some(
    (condition) =>
      condition.Field === 'http-header' &&
      condition.HttpHeaderConfig?.Values?.length === 1 &&
      condition.HttpHeaderConfig.Values[0] === spec.token,
  );
}
