import { el, formatDuration, formatTime, show } from './dom.js';

const TERMINAL = new Set(['retired', 'aborted', 'rolled-back']);

// Phases in the order they were entered, from the journal (a phase re-entered on resume counts once).
export function phasesFrom(journal) {
  const phases = [];
  for (const entry of journal) {
    const last = phases[phases.length - 1];
    if (last && last.phase === entry.phase) continue;
    phases.push({ phase: entry.phase, at: entry.at });
  }
  return phases;
}

// The deployment as a timeline of phases with durations, the gate it waits at, and why it failed.
export function renderDeployment(container, deployment, phases, gate) {
  if (!deployment) {
    show(container, el('p', { class: 'muted' }, 'no deployment yet'));
    return;
  }
  const finished = TERMINAL.has(deployment.phase);
  const items = phases.map((step, index) => {
    const next = phases[index + 1];
    const end = next ? Date.parse(next.at) : finished ? Date.parse(step.at) : Date.now();
    const current = !next && !finished;
    return el(
      'li',
      {
        class: `phase phase-${step.phase}${current ? ' current' : ''}`,
        'data-phase': step.phase,
        'data-at': step.at,
        'aria-current': current ? 'step' : undefined,
      },
      el('span', { class: 'phase-name' }, step.phase),
      el('span', { class: 'phase-time' }, formatTime(step.at)),
      next || !finished
        ? el(
            'span',
            { class: 'phase-duration' },
            current
              ? `${formatDuration(end - Date.parse(step.at))} so far`
              : formatDuration(end - Date.parse(step.at)),
          )
        : null,
    );
  });
  show(
    container,
    el(
      'p',
      { class: 'deployment-head' },
      el('strong', { id: 'deployment-release' }, deployment.release),
      ` into ${deployment.toSlot} · `,
      el('span', { id: 'deployment-phase', 'data-phase': deployment.phase }, deployment.phase),
      ` · by ${deployment.requestedBy} · `,
      el('code', {}, deployment.id),
    ),
    el('ol', { class: 'timeline', id: 'timeline', 'aria-label': 'phases' }, items),
    gate ? el('p', { class: 'gate', id: 'gate', role: 'status' }, `waiting: ${gate}`) : null,
    deployment.reason
      ? el(
          'p',
          { class: 'problem', id: 'failure-reason', role: 'alert' },
          `${deployment.reason.code}: ${deployment.reason.message}`,
        )
      : null,
  );
}

// What the run waits for, from its latest events: the manual promotion gate, or a message after the last move.
export function gateOf(deployment, events) {
  if (!deployment) return undefined;
  if (deployment.phase === 'awaiting-promotion') return 'manual promotion gate (promote to go on)';
  if (deployment.phase !== 'shifting') return undefined;
  const last = events.filter((event) => event.deploymentId === deployment.id).at(-1);
  return last && last.type === 'message' && /waiting/.test(last.message) ? last.message : undefined;
}
