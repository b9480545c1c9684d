import { el, show } from './dom.js';

// Both slots side by side: release, live or idle, traffic share, each instance, and for the
// slot a deployment is checking, its latest health result.
export function renderSlots(container, status, health) {
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
      health && health.slot === slot
        ? el(
            'p',
            { class: health.healthy === health.total ? 'health' : 'health bad', id: `health-${slot}` },
            `health ${health.healthy}/${health.total} passing`,
            health.healthy === health.total ? '' : ` — ${health.detail}`,
          )
        : null,
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
