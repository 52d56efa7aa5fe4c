import { DeviceClient } from "@propius/edge-runtime";
import { nodeWebSocket } from "../../node-client/src/web-socket.js";
import { PING_FRAME, PUSH_OPEN, REFUSED_FRAME, TRIVIAL, type ConnectionCost, type ReferenceRequest } from "./contribution-figures.js";
import type { TransportBench } from "./contribution-transport.js";
import { openAndClose, openRaw, pong, refusedFrame } from "./push-probes.js";

const TRIVIAL_REQUESTS = 1_000;
const PING_FRAMES = 1_000;
const REFUSED_FRAMES = 1_000;
const PUSH_OPENS = 200;

/**
 * Sends `count` of one kind of work, `slots` at a time (each slot one after another), after 50 to
 * warm the isolate (it compiles the route's code first), and returns the CPU they took.
 */
async function measure(bench: TransportBench, name: string, count: number, slots: number, send: (slot: number) => Promise<void>): Promise<ReferenceRequest> {
  for (let i = 0; i < 50; i++) await send(i % slots);
  const start = bench.cpu();
  let next = 0;
  await Promise.all(Array.from({ length: slots }, async (_, slot) => {
    for (let i = next++; i < count; i = next++) await send(slot);
  }));
  const end = bench.cpu();
  return { name, requests: count, worker: end.worker - start.worker, proxy: end.proxy - start.proxy };
}

async function read(name: string, response: Promise<Response>): Promise<void> {
  const answer = await response;
  await answer.arrayBuffer();
  if (answer.status >= 400) throw new Error(`${name} answered ${answer.status}`);
}

/**
 * The ceiling's units and requests that add one piece each to the trivial route, as many in flight
 * as the devices send; for push, also the refused frame (the ceiling's unit for a frame), the
 * keep-alive frame and the opening of a connection, by probe devices of their own.
 */
export async function measureReferences(bench: TransportBench): Promise<ReferenceRequest[]> {
  const { url } = bench.plane;
  const { concurrency, adminKey } = bench.options;
  const { token } = bench.clients[0].credentials!;
  const warmTask = await bench.clients[0].checkIn({});
  if (warmTask.status !== "task") throw new Error(`expected a task of ${bench.jobId}, got ${JSON.stringify(warmTask).slice(0, 200)}`);
  const kinds: [string, number, () => Promise<Response>][] = [
    [TRIVIAL, TRIVIAL_REQUESTS, () => fetch(`${url}/v1/health`)],
    ["GET /v1/admin/counters (5 object calls, no writes)", 300, () => fetch(`${url}/v1/admin/counters`, { headers: { authorization: `Bearer ${adminKey}` } })],
    ["POST /v1/ping (1 object call that writes a row)", 300, () => fetch(`${url}/v1/ping`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}" })],
    ["GET the model, unchanged (304)", 300, () => fetch(`${url}${warmTask.task.modelUrl}`, { headers: { authorization: `Bearer ${token}`, "if-none-match": `"${warmTask.task.modelHash}"` } })],
  ];
  const measured: ReferenceRequest[] = [];
  for (const [name, count, send] of kinds) measured.push(await measure(bench, name, count, concurrency, () => read(name, send())));
  if (bench.transport !== "push") return measured;

  const probes = await Promise.all(Array.from({ length: concurrency }, async () => {
    const probe = new DeviceClient({ baseUrl: url });
    return (await probe.register({})).token;
  }));
  const connector = nodeWebSocket();
  const sockets = await Promise.all(probes.map((t) => openRaw(connector, url, t)));
  measured.push(await measure(bench, PING_FRAME, PING_FRAMES, concurrency, (slot) => pong(sockets[slot])));
  measured.push(await measure(bench, REFUSED_FRAME, REFUSED_FRAMES, concurrency, (slot) => refusedFrame(sockets[slot])));
  for (const socket of sockets) socket.close(1000, "done");
  measured.push(await measure(bench, PUSH_OPEN, PUSH_OPENS, concurrency, (slot) => openAndClose(connector, url, probes[slot])));
  return measured;
}

/** The bench devices open their push connections: the CPU and object work of that, once per device. */
export async function measureConnections(bench: TransportBench): Promise<ConnectionCost> {
  const before = await bench.counters();
  const start = bench.cpu();
  await bench.connect();
  // The shards' answers to the upgrade are in once the sockets are open; the counters read them.
  const end = bench.cpu();
  const after = await bench.counters();
  return {
    connections: bench.pushDevices.length,
    worker: end.worker - start.worker,
    proxy: end.proxy - start.proxy,
    calls: after.totals.calls - before.totals.calls,
    statements: after.totals.statements - before.totals.statements,
  };
}
