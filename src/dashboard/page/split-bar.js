import { el, show } from './dom.js';

// The traffic split as a bar: one segment per slot, its width the slot's share. Each segment is
// labelled with the slot's name and percent, so colour is never the only signal.
export function renderSplit(container, weights, liveSlot, readBack) {
  const segment = (slot) => {
    const part = el(
      'div',
      { class: `segment slot-${slot}`, 'data-slot': slot, 'data-weight': weights[slot] },
      weights[slot] > 0 ? `${slot} ${weights[slot]}%` : '',
    );
    // Through the CSSOM: the Content-Security-Policy forbids style attributes.
    part.style.width = `${weights[slot]}%`;
    return part;
  };
  show(
    container,
    el(
      'div',
      {
        class: 'bar',
        role: 'img',
        id: 'split-bar',
        'aria-label': `traffic: blue ${weights.blue}%, green ${weights.green}%`,
        'data-blue': weights.blue,
        'data-green': weights.green,
      },
      segment('blue'),
      segment('green'),
    ),
    el(
      'p',
      { class: 'split-text' },
      `blue ${weights.blue}% · green ${weights.green}%`,
      liveSlot ? ` · live: ${liveSlot}` : ' · nothing live yet',
      readBack ? ` · ${readBack}` : '',
    ),
  );
}
