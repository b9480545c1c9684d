/** Command-line options of the bench scripts: `--name value`. */

/** The number after `name`, or `fallback` when the option is absent. */
export function numberArg(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
}

/** The comma-separated list after `name`, or undefined when the option is absent. */
export function listArg(name: string): string[] | undefined {
  const index = process.argv.indexOf(name);
  return index > 0 ? (process.argv[index + 1] ?? '').split(',') : undefined;
}
