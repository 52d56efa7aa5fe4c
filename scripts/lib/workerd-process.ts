import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

// wrangler dev runs two workerd processes: a proxy that takes the requests and the one that runs
// the Worker and its objects. These read their CPU and memory from /proc (Linux only).

/** The workerd processes under a wrangler process (its children or grandchildren). */
export function workerdPids(parent: number): number[] {
  try {
    const out = execFileSync("ps", ["-e", "-o", "pid=,ppid=,comm="], { encoding: "utf8" });
    const procs = out.trim().split("\n").map((line) => line.trim().split(/\s+/)).map(([pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm }));
    const below = new Set([parent]);
    for (let changed = true; changed; ) {
      changed = false;
      for (const p of procs) if (below.has(p.ppid) && !below.has(p.pid)) (below.add(p.pid), (changed = true));
    }
    return procs.filter((p) => below.has(p.pid) && p.comm === "workerd").map((p) => p.pid);
  } catch {
    return [];
  }
}

/**
 * The workerd processes under a wrangler process split by role: the proxy that listens on the
 * dev server's `port` and the runtime that runs the Worker and its objects.
 */
export function workerdRoles(parent: number, port: number): { proxy: number[]; worker: number[] } {
  const roles = { proxy: [] as number[], worker: [] as number[] };
  for (const pid of workerdPids(parent)) {
    let args = "";
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue; // the process is gone
    }
    // Arguments in /proc are separated by NUL characters.
    (args.split("\0").includes(`--socket-addr=entry=127.0.0.1:${port}`) ? roles.proxy : roles.worker).push(pid);
  }
  return roles;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const TICK_MS = 10;

/** User + system CPU milliseconds of processes so far, from /proc (in clock ticks of 10 ms). */
export function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process is gone
    }
  }
  return ticks * TICK_MS;
}

/** A memory figure of a process from /proc (VmRSS: resident now; VmHWM: peak resident). */
export function memoryKb(pid: number, field: "VmRSS" | "VmHWM" | "RssAnon"): number | null {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** CPU milliseconds per unit of work, of the runtime that runs the Worker, wrangler's proxy, and this process. */
export interface Cpu {
  worker: number;
  proxy: number;
  client: number;
}

/** Starts counting CPU time of the roles' processes and of this one; `perUnit(n)` divides what was spent since by n. */
export function cpuMeter(roles: { proxy: number[]; worker: number[] }): { perUnit(units: number): Cpu } {
  const start = { worker: cpuMs(roles.worker), proxy: cpuMs(roles.proxy), client: process.cpuUsage() };
  return {
    perUnit(units: number): Cpu {
      const client = process.cpuUsage(start.client);
      const per = (ms: number) => Number((ms / Math.max(1, units)).toFixed(2));
      return { worker: per(cpuMs(roles.worker) - start.worker), proxy: per(cpuMs(roles.proxy) - start.proxy), client: per((client.user + client.system) / 1000) };
    },
  };
}
