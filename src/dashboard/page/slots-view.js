import { el, show } from './dom.js';

// Both slots side by side: release, live or idle, traffic share, and each instance.
export function renderSlots(container, status) {
  const { routing, instances } = status;
  const card = (slot) => {
    const live = routing.liveSlot === slot;
    const list = instances[slot] ?? [];
    return el(
      'article',
      { class: `slot-card slot-${slot}`, id: `slot-${slot}`, 'aria-label': `${slot} slot` },
      el(
        'h3',
        {},
        el('span', { class: 'slot-swatch', 'aria-hidden': 'true' }),
        `${slot} `,
        el('span', { class: `badge ${live ? 'live' : 'idle'}` }, live ? 'live' : 'idle'),
      ),
      el(
        'p',
        { class: 'release' },
        'release ',
        el('strong', { 'data-release': slot }, routing.releases[slot] ?? '—'),
      ),
      el('p', {}, `traffic ${routing.weights[slot]}%`),
      list.length === 0
        ? el('p', { class: 'muted' }, 'no instances')
        : el(
            'ul',
            { class: 'instances' },
            list.map((instance) =>
              el(
                'li',
                {},
                el('code', {}, instance.id),
                ` ${instance.host}:${instance.port}`,
                ' ',
                el('span', { class: 'badge ok' }, 'running'),
              ),
            ),
          ),
    );
  };
  show(container, card('blue'), card('green'));
}

// The health events of the current deployment name how many instances passed.
export function renderHealth(container, event) {
  const slotCard =
    container.querySelector('.health-line') ?? container.appendChild(el('p', { class: 'health-line' }));
  slotCard.textContent = `health: ${event.healthy}/${event.total} healthy — ${event.detail}`;
}
