/**
 * The environment every process cutover starts gets: its own minus its secrets, plus what the
 * caller sets on purpose. An app instance, a hook or a probe command is not cutover: the admin
 * token would give it full control of the deployments, the preview token the idle slot, cloud
 * credentials cutover's AWS account, an SSH agent every host of the fleet.
 */

/** Variables of cutover's own process that no child inherits (CUTOVER_ADMIN_TOKEN, …, and whatever secret comes next). */
const CUTOVER_PREFIX = 'CUTOVER_';

/**
 * The credentials cutover itself uses to reach AWS and the SSH hosts. A child that needs AWS gets
 * its own (an instance role, a profile in a shared credentials file); one that needs the agent
 * is given SSH_AUTH_SOCK on purpose through `set`.
 */
const CREDENTIAL_VARIABLES = new Set([
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'SSH_AUTH_SOCK',
]);

/** Whether a variable of cutover's own environment stays out of every child's. */
export function isWithheldFromChildren(name: string): boolean {
  return name.startsWith(CUTOVER_PREFIX) || CREDENTIAL_VARIABLES.has(name);
}

export function childEnv(
  set: Readonly<Record<string, string>> = {},
  parent: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined && !isWithheldFromChildren(name)) env[name] = value;
  }
  return { ...env, ...set };
}
