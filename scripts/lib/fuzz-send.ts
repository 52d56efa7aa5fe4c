import { connect } from "node:net";
import type { FuzzRequest } from "./fuzz-requests.js";

/** What became of one request: its status, or how the connection failed. */
export interface Outcome {
  status: number | null;
  /** The error code of a JSON error answer. */
  code?: string;
  /** Set when no answer came: a reset, a failed fetch, a timeout. */
  failure?: string;
  ms: number;
}

const TIMEOUT_MS = 60_000;

/** Sends a request as it says: with fetch (one pool of kept-alive connections), or over a socket of its own. */
export async function send(base: URL, request: FuzzRequest): Promise<Outcome> {
  const started = performance.now();
  const done = (outcome: Omit<Outcome, "ms">): Outcome => ({ ...outcome, ms: Math.round(performance.now() - started) });
  if (request.transport !== "fetch") return done(await sendRaw(base, request));
  try {
    const response = await fetch(new URL(request.path, base), { method: request.method, headers: request.headers, body: request.body as Uint8Array<ArrayBuffer> | undefined, signal: AbortSignal.timeout(TIMEOUT_MS) });
    const text = await response.text();
    // A 5xx that is not the API's JSON error came from the runtime or the dev proxy: its text says which.
    return done({ status: response.status, code: codeOf(text) ?? (response.status >= 500 ? text.slice(0, 100) : undefined) });
  } catch (error) {
    return done({ status: null, failure: describe(error) });
  }
}

export function codeOf(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  return [e.name === "TimeoutError" ? "timeout" : e.message, e.cause?.code ?? e.cause?.message].filter(Boolean).join(": ");
}

/**
 * A request written by hand on a fresh connection: chunked without a Content-Length, a body short
 * of the Content-Length it states (the socket half-closed after it), or any method with a body.
 * A truncated request may get no answer: the server waiting for the rest, or closing, is right.
 */
function sendRaw(base: URL, request: FuzzRequest): Promise<Omit<Outcome, "ms">> {
  return new Promise((resolve) => {
    const socket = connect({ host: base.hostname, port: Number(base.port) });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (outcome: Omit<Outcome, "ms">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const parse = (): Omit<Outcome, "ms"> | null => {
      const text = Buffer.concat(chunks).toString("latin1");
      const head = text.indexOf("\r\n\r\n");
      if (head < 0) return null;
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? NaN);
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, head));
      const body = text.slice(head + 4);
      if (status === 101 || request.method === "HEAD") return { status };
      if (length && body.length < Number(length[1])) return null;
      if (!length && /\r\ntransfer-encoding: *chunked/i.test(text.slice(0, head)) && !body.endsWith("0\r\n\r\n")) return null;
      return { status, code: codeOf(dechunk(body, text.slice(0, head))) };
    };
    const truncated = request.transport === "truncated";
    const timer = setTimeout(() => finish(truncated ? { status: null } : { status: null, failure: "timeout" }), truncated ? 5_000 : TIMEOUT_MS);
    socket.on("data", (data) => {
      chunks.push(data);
      const outcome = parse();
      if (outcome) finish(outcome);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => finish(truncated ? { status: null } : { status: null, failure: `socket: ${error.code ?? error.message}` }));
    socket.on("close", () => finish(parse() ?? (truncated ? { status: null } : { status: null, failure: "closed without an answer" })));
    socket.on("connect", () => {
      const body = request.body ?? new Uint8Array(0);
      const headers = { ...request.headers, host: base.host, connection: "close" };
      const lines = [`${request.method} ${request.path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      if (request.transport === "chunked") {
        lines.push("transfer-encoding: chunked");
        socket.write(`${lines.join("\r\n")}\r\n\r\n`);
        for (let offset = 0; offset < body.length; offset += 16 << 10) {
          const piece = body.subarray(offset, offset + (16 << 10));
          socket.write(`${piece.length.toString(16)}\r\n`);
          socket.write(piece);
          socket.write("\r\n");
        }
        socket.write("0\r\n\r\n");
      } else {
        const sent = truncated ? body.subarray(0, Math.floor(body.length / 2)) : body;
        lines.push(`content-length: ${truncated ? body.length + 1 : body.length}`);
        socket.write(`${lines.join("\r\n")}\r\n\r\n`);
        socket.write(sent);
        if (truncated) setTimeout(() => socket.destroy(), 200); // as a device that loses its signal mid-upload
      }
    });
  });
}

function dechunk(body: string, head: string): string {
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) return body;
  let out = "";
  for (let at = 0; at < body.length; ) {
    const end = body.indexOf("\r\n", at);
    const size = parseInt(body.slice(at, end), 16);
    if (!size) break;
    out += body.slice(end + 2, end + 2 + size);
    at = end + 2 + size + 2;
  }
  return out;
}
