import { el, formatTime, show } from './dom.js';

// The last shadow stage the deployment journaled (deployment-run.ts shadowStage), or undefined.
export function shadowFrom(journal) {
  for (let i = journal.length - 1; i >= 0; i -= 1) {
    const shadow = journal[i].data?.shadow;
    if (shadow && Array.isArray(shadow.samples)) return shadow;
  }
  return undefined;
}

// The shadow comparison before promotion: its verdict and the differing pairs it kept, as
// `cutover diff` prints them (secrets were redacted in the proxy before a sample left it).
export function renderShadow(section, container, shadow) {
  section.hidden = shadow === undefined;
  if (shadow === undefined) {
    show(container);
    return;
  }
  const finding = shadow.finding;
  show(
    container,
    finding
      ? el(
          'p',
          {
            id: 'shadow-verdict',
            class: finding.verdict === 'fail' ? 'problem' : '',
            'data-verdict': finding.verdict,
          },
          `${finding.verdict}: ${finding.reason}`,
          finding.observed === null
            ? ''
            : ` (${finding.measure}: ${finding.observed}, threshold ${finding.threshold})`,
        )
      : el('p', { class: 'muted' }, `comparing since ${formatTime(shadow.startedAt)}`),
    shadow.samples.length === 0
      ? el('p', { class: 'muted' }, 'no differing pair was kept')
      : el('ol', { id: 'shadow-samples', class: 'shadow-samples' }, shadow.samples.map(sampleItem)),
  );
}

function sampleItem(sample) {
  const rows = [
    el('p', {}, el('code', {}, `${sample.method} ${sample.target}`), ` · ${formatTime(sample.at)}`),
    el(
      'p',
      { class: sample.statusDiffers ? 'bad' : '' },
      `status: live ${sample.live.status}, shadow ${sample.shadow.status}`,
    ),
    sample.headers.map((name) =>
      el(
        'p',
        {},
        `header ${name}: live ${quoted(sample.live.headers[name])}, shadow ${quoted(sample.shadow.headers[name])}`,
      ),
    ),
  ];
  if (sample.body) {
    rows.push(el('p', { class: 'shadow-body-difference' }, bodyDifference(sample.body)));
    rows.push(
      el(
        'pre',
        { class: 'shadow-body' },
        `live:   ${bodyText(sample.live)}\nshadow: ${bodyText(sample.shadow)}`,
      ),
    );
  }
  return el('li', { class: 'shadow-sample' }, rows);
}

function bodyDifference(body) {
  if (body.kind === 'json') return `body (JSON) differs at ${body.paths.join(', ')}${body.more ? ', …' : ''}`;
  if (body.kind === 'bytes') return `body differs from byte ${body.offset} (line ${body.line})`;
  return `body differs (compared by SHA-256: ${body.liveBytes} and ${body.shadowBytes} bytes)`;
}

function bodyText(side) {
  if (side.body === null) return `(${side.bodyBytes} bytes, binary)`;
  return side.bodyCut ? `${side.body} … (${side.bodyBytes} bytes)` : side.body;
}

function quoted(value) {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}
