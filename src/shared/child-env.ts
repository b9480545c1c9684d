/**
 * The environment every process cutover starts gets: its own minus every `CUTOVER_*` variable
 * (CUTOVER_ADMIN_TOKEN, CUTOVER_PREVIEW_TOKEN and whatever secret comes next), plus what the
 * caller sets on purpose. An app instance, a hook or a probe command is not cutover: the admin
 * token would give it full control of the deployments, the preview token the idle slot.
 */

/** Variables of cutover's own process that no child inherits. */
const CUTOVER_PREFIX = 'CUTOVER_';

export function childEnv(
  set: Readonly<Record<string, string>> = {},
  parent: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined && !name.startsWith(CUTOVER_PREFIX)) env[name] = value;
  }
  return { ...env, ...set };
}
