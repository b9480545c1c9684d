/**
 * The text form of a deploy plan: one numbered phase after another, each call as
 * `service Operation` with one line per input key, waits with their deadline, and what a later
 * `cutover retire` does set apart. `--plan --json` prints the DeployPlan itself instead.
 */
import { formatDuration } from '../shared/duration.js';
import { isPlaceholder, type DeployPlan, type PlannedStep, type PlannedValue } from '../shared/plan.js';

export function renderPlan(plan: DeployPlan): string {
  const lines = [
    `plan: deploy ${plan.release} of ${plan.app} to ${plan.toSlot} (platform ${plan.platform}, router ${plan.router}); live now: ${plan.fromSlot ?? 'nothing'}`,
    'nothing has been changed; reads of the current state are not listed',
  ];
  let number = 0;
  for (const phase of plan.phases) {
    number += phase.later ? 0 : 1;
    lines.push('', phase.later ? `later: ${phase.title}` : `${number}. ${phase.title}`);
    if (phase.steps.length === 0) lines.push('   (no call)');
    for (const step of phase.steps) lines.push(...renderStep(step).map((line) => `   ${line}`));
  }
  return `${lines.join('\n')}\n`;
}

export function renderStep(step: PlannedStep): string[] {
  switch (step.kind) {
    case 'call': {
      const head = `${step.service} ${step.operation}${step.condition === undefined ? '' : ` (${step.condition})`}`;
      return [head, ...Object.entries(step.input).map(([key, value]) => `  ${key}: ${renderValue(value)}`)];
    }
    case 'wait':
      return [`wait until ${step.until} (deadline ${formatDuration(step.deadlineMs)})`];
    case 'note':
      return [`note: ${step.text}`];
  }
}

/** Strings quoted (so a control character shows escaped), placeholders as `<what>`. */
export function renderValue(value: PlannedValue): string {
  if (isPlaceholder(value)) return `<${JSON.stringify(value.placeholder).slice(1, -1)}>`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map((item: PlannedValue) => renderValue(item)).join(', ')}]`;
  const entries = Object.entries(value as { readonly [key: string]: PlannedValue });
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([key, inner]) => `${key}: ${renderValue(inner)}`).join(', ')} }`;
}
