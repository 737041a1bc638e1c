// Which processes and listening TCP ports belong to a cluster, read from /proc (no extra tools).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** PIDs whose command line mentions `needle` (e.g. a cluster's directory). */
export function pidsMentioning(needle: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => pid !== process.pid)
    .filter((pid) => safe(() => readFileSync(`/proc/${pid}/cmdline`, "utf8"), "").includes(needle));
}

/** Listening TCP ports by socket inode. */
export function listeningPorts(): Map<string, number> {
  const out = new Map<string, number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of safe(() => readFileSync(file, "utf8"), "")
      .split("\n")
      .slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== "0A") continue; // 0A = LISTEN
      out.set(f[9] ?? "", parseInt((f[1] ?? "").split(":")[1] ?? "0", 16));
    }
  }
  return out;
}

/** Ports the given processes listen on. */
export function portsOf(pids: number[]): number[] {
  const listening = listeningPorts();
  const ports = new Set<number>();
  for (const pid of pids) {
    for (const fd of safe(() => readdirSync(`/proc/${pid}/fd`), [])) {
      const m = /^socket:\[(\d+)\]$/.exec(safe(() => readlinkSync(`/proc/${pid}/fd/${fd}`), ""));
      const port = m ? listening.get(m[1] ?? "") : undefined;
      if (port !== undefined) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}
