import { el, formatTime, show } from './dom.js';

// The audit log: who did what, newest first.
export function renderHistory(container, audit) {
  if (audit.length === 0) {
    show(container, el('p', { class: 'muted' }, 'nothing recorded yet'));
    return;
  }
  show(
    container,
    el(
      'div',
      { class: 'table-scroll' },
      el(
        'table',
        { class: 'history', id: 'audit' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ['time', 'who', 'action', 'release', 'outcome'].map((name) => el('th', { scope: 'col' }, name)),
          ),
        ),
        el(
          'tbody',
          {},
          audit.map((entry) =>
            el(
              'tr',
              { 'data-action': entry.action },
              el('td', {}, formatTime(entry.at)),
              el('td', { class: 'actor' }, entry.actor),
              el('td', {}, entry.action),
              el('td', {}, entry.target),
              el('td', { class: entry.outcome === 'ok' ? '' : 'bad' }, entry.outcome),
            ),
          ),
        ),
      ),
    ),
  );
}

// The tail of each slot's instance logs.
export function renderLogs(container, logs) {
  const block = (slot) =>
    el(
      'div',
      { class: `log slot-${slot}` },
      el('h3', {}, `${slot}`),
      logs[slot].length === 0
        ? el('p', { class: 'muted' }, 'no lines')
        : el(
            'pre',
            { tabindex: '0', 'aria-label': `${slot} logs` },
            logs[slot].map((line) => `${line.instanceId} ${line.line}\n`).join(''),
          ),
    );
  show(container, block('blue'), block('green'));
}
