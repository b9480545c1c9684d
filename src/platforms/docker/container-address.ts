import type Docker from 'dockerode';
import { CutoverError } from '../../shared/errors.js';
import { isSlot, type Target } from '../../shared/slot.js';
import type { DockerPlatformConfig } from './config.js';
import { instanceId, LABEL } from './container-naming.js';

/**
 * Where the router and the checks reach a container: `<name>:<port>` on the network with
 * `reach: name`, else the host port the engine published — read back from the engine, and a
 * CUTOVER_E_PROVISION when it is missing (some engine/client pairs have accepted a binding and
 * not applied it).
 */
export function containerTarget(config: DockerPlatformConfig, info: Docker.ContainerInspectInfo): Target {
  const slot = info.Config.Labels[LABEL.slot];
  const id = instanceId(
    isSlot(slot) ? slot : 'blue',
    Number(info.Config.Labels[LABEL.instance]),
    info.Config.Labels[LABEL.release] ?? '',
  );
  const name = containerNameOf(info);
  if (config.reach === 'name') return { id, host: name, port: config.port };
  const bindings = info.NetworkSettings.Ports?.[`${config.port}/tcp`] as
    { HostIp: string; HostPort: string }[] | null | undefined;
  const binding = bindings?.find((candidate) => candidate.HostPort !== '');
  if (!binding) {
    throw new CutoverError(
      'CUTOVER_E_PROVISION',
      `container ${name} runs but the engine did not publish its port ${config.port}/tcp (asked for ${config.publish.address})`,
      { details: { container: name, ports: info.NetworkSettings.Ports } },
    );
  }
  const address = config.publish.address;
  const host = address === '0.0.0.0' || address === '::' || address === '' ? '127.0.0.1' : address;
  return { id, host, port: Number(binding.HostPort) };
}

/** The container's name without the API's leading slash. */
export function containerNameOf(info: Docker.ContainerInspectInfo): string {
  return info.Name.replace(/^\//, '');
}
