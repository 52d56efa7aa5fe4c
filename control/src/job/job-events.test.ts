import { describe, expect, it } from "vitest";
import { encodeWeights, jobSpecSchema, type JobEvent, type JobSpecInput } from "@propius/shared";
import { Deadlines, MemoryDeadlineStore } from "./deadlines.js";
import { JobCore } from "./job-core.js";
import { MemoryJobStore } from "./job-store.js";
import { InProcessAggregation, inProcessTickets } from "../aggregation/in-process-aggregation.js";
import { EventFanOut, memoryEventLog, type EventSocket } from "./event-fan-out.js";
import { JobEvents } from "./job-events.js";

const tensors = [{ name: "w", shape: [2, 2], dtype: "float32" as const }];
const spec: JobSpecInput = {
  name: "events",
  model: { format: "tfjs-layers", topology: {}, weightSpecs: tensors },
  plan: { rounds: 2, clientsPerRound: 2, overCommit: 1, minReportFraction: 1, roundDeadlineSeconds: 60, localEpochs: 1 },
};
const delta = (values: number[]) => encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples: 1, trainLoss: 0.5 } }, Float32Array.from(values));

/** The real state machine and in-process shards, every call observed as the job's object observes it. */
function setup() {
  const store = new MemoryJobStore();
  const deadlines = new Deadlines(new MemoryDeadlineStore(), { schedule: () => undefined });
  let n = 0;
  const core = new JobCore(store, deadlines, { newTicket: () => `ticket-${++n}`, tickets: inProcessTickets });
  core.create({ id: "job_events001", tenant: "acme", spec: jobSpecSchema.parse(spec), now: 0 });
  const shards = new InProcessAggregation(core);
  const sockets: EventSocket[] = [];
  const events = new JobEvents(new EventFanOut(memoryEventLog(), () => sockets), { job: () => store.loadJob(), round: (r, a) => store.loadRound(r, a) }, () => core.status(null));
  const seen: JobEvent[] = [];
  const subscribe = () => events.attach(() => (sockets.push({ send: (text) => seen.push(JSON.parse(text)) }), sockets.at(-1)!), "job_events001", null, 0);
  const observe = <T>(fn: () => T | Promise<T>, now = 1) => events.observe(async () => fn(), () => now);
  const types = () => seen.map((e) => e.type);
  return { core, shards, events, seen, subscribe, observe, types };
}

const ticketOf = (claim: ReturnType<JobCore["claim"]>) => (claim.kind === "task" ? claim.ticket : "");

describe("a job's events, derived from what each call changed", () => {
  it("follow a job through its rounds: state, opening, bindings, updates, close, and the end", async () => {
    const { core, shards, subscribe, observe, seen, types } = setup();
    subscribe();
    await observe(() => core.setInitialModel("base", 1));
    const a = ticketOf(await observe(() => core.claim("a", 2)));
    const b = ticketOf(await observe(() => core.claim("b", 2)));
    await observe(() => core.claim("a", 3)); // the same device again: no new binding
    await observe(() => shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 4));
    await observe(() => shards.submit({ ticket: b, clientId: "b", round: 1, body: delta([3, 3, 3, 3]) }, 4));
    await observe(() => shards.close(new Float32Array(4), "next", 5), 5);
    expect(types()).toEqual(["snapshot", "state_changed", "round_opened", "device_bound", "device_bound", "update_accepted", "update_accepted", "round_closed", "round_opened"]);
    expect(seen[1]).toMatchObject({ from: "pending_model", to: "running" });
    expect(seen.find((e) => e.type === "round_closed")).toMatchObject({ round: 1, record: { status: "closed", reported: 2, trainLoss: 0.5, resultModel: "next", closedAt: 5 } });
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => seen[0].seq + i));

    const c = ticketOf(await observe(() => core.claim("c", 6)));
    const d = ticketOf(await observe(() => core.claim("d", 6)));
    await observe(() => shards.submit({ ticket: c, clientId: "c", round: 2, body: delta([1, 1, 1, 1]) }, 7));
    await observe(() => shards.submit({ ticket: d, clientId: "d", round: 2, body: delta([1, 1, 1, 1]) }, 7));
    await observe(() => shards.close(new Float32Array(4), "last", 8), 8);
    expect(types().slice(-3)).toEqual(["update_accepted", "round_closed", "state_changed"]);
    expect(seen.at(-1)).toMatchObject({ from: "running", to: "done" });
  });

  it("publish a failed task by code, and a retried round", async () => {
    const { core, shards, subscribe, observe, seen } = setup();
    await observe(() => core.setInitialModel("base", 1));
    subscribe();
    const a = ticketOf(await observe(() => core.claim("a", 2)));
    await observe(() => core.reportFailure({ ticket: a, clientId: "a", round: 1, failure: { code: "out_of_memory", message: "" } }, 3));
    await observe(() => shards.alarm(61_000), 61_000);
    expect(seen.slice(1).map((e) => e.type)).toEqual(["device_bound", "device_failed", "round_retried", "round_opened"]);
    expect(seen[2]).toMatchObject({ code: "out_of_memory", evaluation: false });
    expect(seen.at(-1)).toMatchObject({ round: 1, attempt: 1 });
  });

  it("publish each change once when calls overlap at their awaits", async () => {
    const { core, subscribe, events, seen } = setup();
    await events.observe(async () => core.setInitialModel("base", 1), () => 1);
    subscribe();
    let release!: () => void;
    const slow = events.observe(() => new Promise<void>((resolve) => (release = resolve)), () => 3);
    await events.observe(async () => core.claim("a", 2), () => 2);
    release();
    await slow;
    expect(seen.filter((e) => e.type === "device_bound")).toHaveLength(1);
  });

  it("derive nothing while nobody listens, and send the state to whoever connects later", async () => {
    const { core, subscribe, observe, seen } = setup();
    await observe(() => core.setInitialModel("base", 1));
    await observe(() => core.claim("a", 2));
    expect(seen).toEqual([]);
    subscribe();
    expect(seen).toMatchObject([{ type: "snapshot", status: { state: "running", rounds: [{ bound: 1 }] } }]);
  });
});
