import { readFileSync } from 'node:fs';

/**
 * CPU time the hypervisor gave to other guests while this VM's CPUs wanted to run ("steal"),
 * per CPU, from /proc/stat. A latency tail measured while a CPU lost a fifth of its time is the
 * machine's, not the path's: the benches print it next to each latency run.
 */
export type CpuTimes = ReadonlyMap<string, { readonly steal: number; readonly total: number }>;

export function cpuTimes(): CpuTimes {
  const times = new Map<string, { steal: number; total: number }>();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+) (.*)$/.exec(line);
    if (match === null) continue;
    // user nice system idle iowait irq softirq steal (guest time is already counted in user).
    const ticks = match[2]!.trim().split(/\s+/).slice(0, 8).map(Number);
    times.set(match[1]!, { steal: ticks[7] ?? 0, total: ticks.reduce((sum, tick) => sum + tick, 0) });
  }
  return times;
}

/** Steal as a percentage of each listed CPU's time between two readings (NaN when unknown). */
export function stealPercent(before: CpuTimes, after: CpuTimes, cpus: readonly string[]): number[] {
  return cpus.map((cpu) => {
    const from = before.get(cpu);
    const to = after.get(cpu);
    if (from === undefined || to === undefined || to.total === from.total) return NaN;
    return ((to.steal - from.steal) / (to.total - from.total)) * 100;
  });
}
