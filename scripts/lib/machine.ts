import { cpus, freemem, totalmem } from "node:os";

/**
 * The machine a benchmark ran on, as its report names it: cores, CPU model, memory and Node.
 * `freeAtEnd` adds the memory free as the report is written (for runs that hold large state).
 */
export function machineLine(options: { freeAtEnd?: boolean } = {}): string {
  const free = options.freeAtEnd ? ` (${Math.round(freemem() / 2 ** 30)} GiB free at the end)` : "";
  return `${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB${free}, Node ${process.version}`;
}
