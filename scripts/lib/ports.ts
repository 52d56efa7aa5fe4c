import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** The lowest port the kernel hands out for `listen(0)` and outgoing connections (Linux), or null. */
function ephemeralLow(): number | null {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11_000 ? low : null;
  } catch {
    return null;
  }
}

const listenable = (port: number) =>
  new Promise<number | null>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(null));
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });

/**
 * A TCP port on loopback that nothing listens on right now. Chosen at random below the kernel's
 * ephemeral range where it has one: a port from that range can be handed to another socket (a
 * runtime's own listener, an outgoing connection) between this check and the server's start.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  if (low !== null) {
    for (let tries = 0; tries < 50; tries += 1) {
      const port = await listenable(10_000 + Math.floor(Math.random() * (low - 10_000)));
      if (port !== null) return port;
    }
  }
  const port = await listenable(0);
  if (port === null) throw new Error("no free TCP port on 127.0.0.1");
  return port;
}

/** Whether something already listens on `port` at 127.0.0.1 (so that a server started there would fail). */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => (error.code === "EADDRINUSE" ? resolve(true) : reject(error)));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}
