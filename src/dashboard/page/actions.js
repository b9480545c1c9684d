import { el, show } from './dom.js';

const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

// A POST to the admin API's own route, authenticated by the session cookie and the CSRF token.
export async function post(path, body = {}) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken() },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok)
    throw new Error(
      answer.error ? `${answer.error.code}: ${answer.error.message}` : `HTTP ${response.status}`,
    );
  return answer;
}

// A native modal dialog: keyboard-usable, focus returns to the button afterwards.
function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = 'cancel';
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

const ABORTABLE = new Set(['pending', 'provisioning', 'verifying', 'awaiting-promotion', 'shifting']);
const ROLLBACKABLE = new Set(['promoted', 'draining', 'standby']);

// Buttons for what the current deployment allows, each confirmed, each through the admin API.
export function renderActions(container, resultLine, deployment, gate, releases) {
  const run = (label, question, path, body) =>
    el(
      'button',
      {
        type: 'button',
        id: `action-${label.toLowerCase()}`,
        onclick: async () => {
          if (!(await confirmAction(question))) return;
          resultLine.textContent = `${label}…`;
          try {
            await post(path, body);
            resultLine.textContent = `${label}: done`;
          } catch (error) {
            resultLine.textContent = `${label} refused: ${error.message}`;
          }
        },
      },
      label,
    );
  const buttons = [];
  const id = deployment?.id;
  if (deployment && gate)
    buttons.push(run('Promote', `Promote ${deployment.release}?`, `/v1/deployments/${id}/promote`));
  if (deployment && ABORTABLE.has(deployment.phase))
    buttons.push(
      run(
        'Abort',
        `Abort the deployment of ${deployment.release}? Traffic stays on (or returns to) the old slot.`,
        `/v1/deployments/${id}/abort`,
      ),
    );
  if (deployment && ROLLBACKABLE.has(deployment.phase) && deployment.fromRelease)
    buttons.push(
      run(
        'Rollback',
        `Roll back to ${deployment.fromRelease}? Traffic moves to the warm old slot at once.`,
        `/v1/deployments/${id}/rollback`,
      ),
    );
  const busy =
    deployment &&
    (ABORTABLE.has(deployment.phase) || deployment.phase === 'promoted' || deployment.phase === 'draining');
  if (!busy && releases.length > 0) {
    const previous = document.getElementById('deploy-release')?.value;
    const select = el(
      'select',
      { id: 'deploy-release' },
      releases.map((release) => el('option', { value: release }, release)),
    );
    if (previous && releases.includes(previous)) select.value = previous;
    const deploy = el(
      'button',
      {
        type: 'button',
        id: 'action-deploy',
        onclick: async () => {
          const release = select.value;
          if (!(await confirmAction(`Deploy ${release} into the idle slot?`))) return;
          resultLine.textContent = 'Deploy…';
          try {
            await post('/v1/deployments', { release });
            resultLine.textContent = `Deploy of ${release}: started`;
          } catch (error) {
            resultLine.textContent = `Deploy refused: ${error.message}`;
          }
        },
      },
      'Deploy',
    );
    buttons.push(
      el(
        'span',
        { class: 'deploy' },
        el('label', { for: 'deploy-release' }, 'known release '),
        select,
        deploy,
      ),
    );
  }
  // Keep focus where it was when the same buttons are drawn again.
  const focused = document.activeElement?.id;
  show(container, buttons);
  if (focused) document.getElementById(focused)?.focus();
}
