/** The values a process platform fills into args, env values and cwd. */
export interface PlaceholderValues {
  readonly PORT: number;
  readonly RELEASE: string;
  readonly SLOT: string;
  /** The instance's index within its slot: 0, 1, … */
  readonly INSTANCE: number;
  readonly HOST: string;
}

const PLACEHOLDER = /\$\{(PORT|RELEASE|SLOT|INSTANCE|HOST)\}/g;

/** Replaces ${PORT}, ${RELEASE}, ${SLOT}, ${INSTANCE} and ${HOST}; anything else is left as written. */
export function substitutePlaceholders(template: string, values: PlaceholderValues): string {
  return template.replace(PLACEHOLDER, (_match, name: keyof PlaceholderValues) => String(values[name]));
}
