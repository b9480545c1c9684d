/**
 * cutover's percents and Route 53's record weights. A weighted record takes 0–255 and Route 53
 * sends each record weight/sum of the answers; cutover maps a split of 100 onto 255 in
 * proportion (10 % → 26 / 229), so reading the weights back gives the same percents. moto
 * accepts any weight, so the range is checked here, before any call.
 */
import { CutoverError } from '../../shared/errors.js';
import type { Weights } from '../../shared/slot.js';

export const RECORD_WEIGHT_MAX = 255;

export type RecordWeights = Weights;

export function recordWeights(weights: Weights): RecordWeights {
  const blue = Math.round((weights.blue * RECORD_WEIGHT_MAX) / 100);
  const mapped = { blue, green: RECORD_WEIGHT_MAX - blue };
  const wholeSplit =
    Number.isInteger(weights.blue) && Number.isInteger(weights.green) && weights.blue + weights.green === 100;
  if (!wholeSplit || !isRecordWeight(mapped.blue) || !isRecordWeight(mapped.green)) {
    throw new CutoverError(
      'CUTOVER_E_INVALID_WEIGHTS',
      `Route 53 record weights are whole numbers from 0 to ${RECORD_WEIGHT_MAX}; blue ${weights.blue} / green ${weights.green} maps to ${mapped.blue} / ${mapped.green}`,
      { details: { asked: weights, recordWeights: mapped } },
    );
  }
  return mapped;
}

export function isRecordWeight(weight: number): boolean {
  return Number.isInteger(weight) && weight >= 0 && weight <= RECORD_WEIGHT_MAX;
}

/**
 * The percents Route 53 serves with these record weights. All zero is an even split: Route 53
 * then answers with every record alike.
 */
export function percentsOf(weights: RecordWeights): Weights {
  const sum = weights.blue + weights.green;
  if (sum === 0) return { blue: 50, green: 50 };
  const blue = Math.round((weights.blue * 100) / sum);
  return { blue, green: 100 - blue };
}
