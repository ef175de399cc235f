import { readFileSync } from 'node:fs';

export interface CpuTime {
  userUs: number;
  systemUs: number;
}

/** Linux's USER_HZ: the unit of utime/stime in /proc/<pid>/task/<tid>/stat (100 on every Linux ABI node runs on). */
const USER_HZ = 100;

/**
 * CPU time of the calling thread, on Linux from /proc/thread-self/stat (10 ms
 * steps), so that each worker thread's job is charged its own thread's time;
 * undefined elsewhere. Node 20 has no process.threadCpuUsage(), and
 * process.cpuUsage() in a worker is the whole process's.
 */
export function threadCpuUsage(): CpuTime | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/thread-self/stat', 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name, state is field 3: utime (14) and stime (15) are at 11 and 12.
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { userUs: (utime * 1e6) / USER_HZ, systemUs: (stime * 1e6) / USER_HZ };
}

export function processCpuUsage(): CpuTime {
  const c = process.cpuUsage();
  return { userUs: c.user, systemUs: c.system };
}

export function cpuSince(a: CpuTime, b: CpuTime): CpuTime {
  return { userUs: b.userUs - a.userUs, systemUs: b.systemUs - a.systemUs };
}
