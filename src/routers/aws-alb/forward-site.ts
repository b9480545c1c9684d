/**
 * Where cutover's forward action lives: a listener's default actions (ModifyListener) or one
 * rule's actions (ModifyRule). Both read back with their Describe call, so verify() sees what
 * AWS holds, hand edits included.
 */
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
  type Listener,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCall } from '../../aws/aws-call.js';
import type { AwsCallSpec } from '../../aws/planned-call.js';
import { CutoverError } from '../../shared/errors.js';

export interface ForwardSite {
  /** For messages: `listener …/web/…` or `rule …`. */
  readonly label: string;
  readonly listenerArn: string;
  /** The rule's priority; undefined for a listener's default action. */
  priority(): Promise<number | undefined>;
  actions(): Promise<Action[]>;
  replaceActions(actions: Action[]): Promise<void>;
  /** The call replaceActions(actions) sends (what `--plan` prints). */
  replaceCall(actions: Action[]): AwsCallSpec<object>;
}

export async function describeListener(client: ElasticLoadBalancingV2Client, arn: string): Promise<Listener> {
  const answer = await awsCall(`DescribeListeners(${shortArn(arn)})`, client, (abortSignal) =>
    client.send(new DescribeListenersCommand({ ListenerArns: [arn] }), { abortSignal }),
  );
  const listener = answer.Listeners?.find((found) => found.ListenerArn === arn);
  if (listener === undefined) {
    throw new CutoverError('CUTOVER_E_ROUTER', `ALB listener ${arn} does not exist`, {
      details: { listener: arn },
    });
  }
  return listener;
}

export function listenerSite(client: ElasticLoadBalancingV2Client, listenerArn: string): ForwardSite {
  const replaceCall = (actions: Action[]) => ({
    service: 'elasticloadbalancing' as const,
    operation: 'ModifyListener',
    input: { ListenerArn: listenerArn, DefaultActions: actions },
  });
  return {
    label: `listener ${shortArn(listenerArn)}`,
    listenerArn,
    priority: () => Promise.resolve(undefined),
    actions: async () => (await describeListener(client, listenerArn)).DefaultActions ?? [],
    replaceActions: async (actions) => {
      await awsCall(`ModifyListener(${shortArn(listenerArn)})`, client, (abortSignal) =>
        client.send(new ModifyListenerCommand(replaceCall(actions).input), { abortSignal }),
      );
    },
    replaceCall,
  };
}

export function ruleSite(
  client: ElasticLoadBalancingV2Client,
  ruleArn: string,
  listenerArn: string,
): ForwardSite {
  const describe = async () => {
    const answer = await awsCall(`DescribeRules(${shortArn(ruleArn)})`, client, (abortSignal) =>
      client.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }), { abortSignal }),
    );
    const rule = answer.Rules?.find((found) => found.RuleArn === ruleArn);
    if (rule === undefined) {
      throw new CutoverError('CUTOVER_E_ROUTER', `ALB listener rule ${ruleArn} does not exist`, {
        details: { rule: ruleArn },
      });
    }
    return rule;
  };
  const replaceCall = (actions: Action[]) => ({
    service: 'elasticloadbalancing' as const,
    operation: 'ModifyRule',
    input: { RuleArn: ruleArn, Actions: actions },
  });
  return {
    label: `rule ${shortArn(ruleArn)}`,
    listenerArn,
    priority: async () => {
      const priority = Number((await describe()).Priority);
      return Number.isInteger(priority) ? priority : undefined;
    },
    actions: async () => (await describe()).Actions ?? [],
    replaceActions: async (actions) => {
      await awsCall(`ModifyRule(${shortArn(ruleArn)})`, client, (abortSignal) =>
        client.send(new ModifyRuleCommand(replaceCall(actions).input), { abortSignal }),
      );
    },
    replaceCall,
  };
}

/** The part of an ELBv2 ARN after the resource type (`app/web/…/…`), for messages. */
export function shortArn(arn: string): string {
  const slash = arn.indexOf('/');
  return slash < 0 ? arn : arn.slice(slash + 1);
}
