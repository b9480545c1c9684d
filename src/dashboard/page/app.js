// The dashboard page: plain DOM modules, no framework and no bundler. The page is a handful of
// panels redrawn from one state object; a framework would add a dependency and a build step for
// little gain at this size. All data arrives on one Server-Sent Events stream (no polling).
import { renderActions, post } from './actions.js';
import { gateOf, phasesFrom, renderDeployment } from './deployment-view.js';
import { renderHistory, renderLogs } from './history-view.js';
import { renderMetrics } from './metrics-view.js';
import { renderShadow, shadowFrom } from './shadow-view.js';
import { renderSlots } from './slots-view.js';
import { renderSplit } from './split-bar.js';

const $ = (id) => document.getElementById(id);

const state = {
  status: undefined,
  current: undefined,
  phases: [],
  /** The current deployment's shadow comparison (analysis.shadow), if it had one. */
  shadow: undefined,
  events: [],
  audit: [],
  releases: [],
  logs: { blue: [], green: [] },
};

function readBackText(status) {
  const verification = status.verification;
  if (!verification) return '';
  if (typeof verification === 'string') return verification;
  return verification.verified
    ? 'verified'
    : `not verified${verification.reason ? `: ${verification.reason}` : ''}`;
}

// The latest health result of the current deployment's new slot, from its events.
function healthOf(deployment, events) {
  if (!deployment || ['retired', 'aborted', 'rolled-back'].includes(deployment.phase)) return undefined;
  const last = events
    .filter((event) => event.deploymentId === deployment.id && event.type === 'health')
    .at(-1);
  return last ? { ...last, slot: deployment.toSlot } : undefined;
}

function renderLive() {
  if (!state.status) return;
  const { routing } = state.status;
  renderSplit($('split'), routing.weights, routing.liveSlot, readBackText(state.status));
  const gate = gateOf(state.current, state.events);
  renderDeployment($('deployment'), state.current, state.phases, gate);
  renderActions($('actions'), $('action-result'), state.current, gate, state.releases);
}

function renderAll() {
  if (!state.status) return;
  renderLive();
  renderSlots($('slots'), state.status, healthOf(state.current, state.events));
  renderShadow($('shadow-panel'), $('shadow'), state.shadow);
  renderHistory($('history'), state.audit);
  renderLogs($('logs'), state.logs);
}

function applySnapshot(snapshot) {
  state.status = snapshot.status;
  state.current = snapshot.current ?? undefined;
  state.phases = phasesFrom(snapshot.journal);
  state.shadow = shadowFrom(snapshot.journal);
  state.events = snapshot.events;
  state.audit = snapshot.audit;
  state.releases = snapshot.releases;
  state.logs = snapshot.logs;
  renderAll();
}

// An engine event moves the page at once; the snapshot that follows fills in the rest.
function applyEngineEvent(event) {
  if (!state.status) return;
  state.events = [...state.events.slice(-49), event];
  if (event.type === 'phase') {
    if (!state.current || state.current.id !== event.deploymentId) {
      state.current = {
        id: event.deploymentId,
        release: event.release,
        phase: event.phase,
        toSlot: '…',
        requestedBy: '…',
        reason: null,
      };
      state.phases = [];
      $('action-result').textContent = '';
    }
    state.current = { ...state.current, phase: event.phase, reason: event.reason ?? state.current.reason };
    if (state.phases.at(-1)?.phase !== event.phase)
      state.phases = [...state.phases, { phase: event.phase, at: event.at }];
  } else if (event.type === 'health') {
    renderSlots($('slots'), state.status, healthOf(state.current, state.events));
  } else if (event.type === 'weights') {
    state.status = { ...state.status, routing: { ...state.status.routing, weights: event.weights } };
  }
  renderLive();
}

function connect() {
  const stream = new EventSource('/dashboard/stream');
  stream.addEventListener('open', () => {
    $('connection').textContent = 'live';
    $('connection').dataset.state = 'live';
  });
  stream.addEventListener('error', () => {
    // EventSource reconnects by itself; a closed stream means the session is gone.
    if (stream.readyState === EventSource.CLOSED) window.location.assign('/login');
    $('connection').textContent = 'reconnecting…';
    $('connection').dataset.state = 'reconnecting';
  });
  stream.addEventListener('snapshot', (message) => applySnapshot(JSON.parse(message.data)));
  stream.addEventListener('engine', (message) => applyEngineEvent(JSON.parse(message.data)));
  stream.addEventListener('metrics', (message) => renderMetrics($('metrics'), JSON.parse(message.data)));
  stream.addEventListener('problem', (message) => {
    $('connection').textContent = JSON.parse(message.data).message;
  });
}

$('logout').addEventListener('click', async () => {
  await post('/logout').catch(() => undefined);
  window.location.assign('/login');
});

connect();
