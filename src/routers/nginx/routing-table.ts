/**
 * The routing table of the lua mode as it travels to nginx (PUT body) and rests in the state
 * file: one line per fact, parsed by the same rules on both sides (lua-module.ts `M.parse`).
 *
 *   weights 70 30
 *   preview green            (or `preview none`)
 *   previewtoken <token>     (only when there is one)
 *   target blue blue-1 127.0.0.1 8081
 */
import { isIP } from 'node:net';
import { CutoverError } from '../../shared/errors.js';
import { SLOTS, type Slot, type SlotTargets, type Target } from '../../shared/slot.js';
import type { IncludeState } from './include-file.js';

const ID_PATTERN = /^[A-Za-z0-9\-_.:]+$/;
const TOKEN_PATTERN = /^[A-Za-z0-9\-_.~:]+$/;

export function renderRoutingTable(state: IncludeState, previewToken: string | undefined): string {
  const lines = [
    `weights ${state.weights.blue} ${state.weights.green}`,
    `preview ${state.preview ?? 'none'}`,
  ];
  if (previewToken !== undefined) {
    if (!TOKEN_PATTERN.test(previewToken)) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        'the preview token holds characters nginx lua mode cannot carry',
      );
    }
    lines.push(`previewtoken ${previewToken}`);
  }
  for (const slot of SLOTS) {
    for (const target of state.targets[slot])
      lines.push(`target ${slot} ${target.id} ${target.host} ${target.port}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Refuses targets the balancer cannot take: `ngx.balancer` connects to IP addresses only (no
 * resolver at request time), and ids travel as single words.
 */
export function checkLuaTargets(targets: SlotTargets): void {
  for (const slot of SLOTS) {
    for (const target of targets[slot]) {
      if (isIP(target.host) === 0) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `nginx lua mode needs an IP address for ${slot} instance ${target.id}, got host ${target.host}`,
        );
      }
      if (!ID_PATTERN.test(target.id)) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `nginx lua mode takes instance ids of letters, digits and -_.: only, got ${JSON.stringify(target.id)}`,
        );
      }
    }
  }
}

/** A table this router wrote (the state file), or undefined for any other text. */
export function parseRoutingTable(text: string): IncludeState | undefined {
  const targets: Record<Slot, Target[]> = { blue: [], green: [] };
  let weights: IncludeState['weights'] | undefined;
  let preview: Slot | null = null;
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] === '' || words[0] === 'previewtoken') continue;
    if (words[0] === 'weights' && words.length === 3) {
      weights = { blue: Number(words[1]), green: Number(words[2]) };
    } else if (words[0] === 'preview' && words.length === 2) {
      preview = words[1] === 'blue' || words[1] === 'green' ? words[1] : null;
    } else if (words[0] === 'target' && words.length === 5 && (words[1] === 'blue' || words[1] === 'green')) {
      targets[words[1]].push({ id: words[2] ?? '', host: words[3] ?? '', port: Number(words[4]) });
    } else {
      return undefined;
    }
  }
  return weights === undefined ? undefined : { targets, weights, preview };
}
