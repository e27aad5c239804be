import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ); 100 on Linux almost everywhere. */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident set size of a process in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** Open file descriptors of a process (sockets included). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The soft and hard `ulimit -n` of this process. */
export function fdLimits(): { soft: number; hard: number } {
  const m = /Max open files\s+(\S+)\s+(\S+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  const n = (s: string | undefined) => (s === undefined || s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/**
 * CPU use of a set of processes between two moments, as a share of one core
 * (1 = one core busy the whole time).
 */
export class CpuMeter {
  private start = new Map<number, number>();
  private startNs = 0n;

  constructor(private readonly pids: () => number[]) {}

  mark(): void {
    this.start.clear();
    for (const pid of this.pids()) {
      const s = safeCpu(pid);
      if (s !== undefined) this.start.set(pid, s);
    }
    this.startNs = process.hrtime.bigint();
  }

  /**
   * Cores used since `mark()` (summed over the pids), and the CPU seconds
   * behind that. A process that exited meanwhile (a PostgreSQL backend whose
   * pool connection was closed) adds nothing: its last figures are gone.
   */
  read(): { total: number; cpuSeconds: number } {
    const wall = Number(process.hrtime.bigint() - this.startNs) / 1e9;
    let cpuSeconds = 0;
    for (const [pid, s0] of this.start) {
      const s = safeCpu(pid);
      if (s !== undefined) cpuSeconds += s - s0;
    }
    return { total: cpuSeconds / wall, cpuSeconds };
  }
}

function safeCpu(pid: number): number | undefined {
  try {
    return cpuSeconds(pid);
  } catch {
    return undefined;
  }
}
