import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OwnerClient } from "@propius/edge-runtime";
import { runEventJob } from "../../scripts/lib/event-job.js";
import { ADMIN_KEY, TestControlPlane } from "./helpers.js";

describe("live job events under wrangler dev", () => {
  let plane: TestControlPlane;
  beforeAll(async () => {
    plane = await TestControlPlane.start();
  });
  afterAll(async () => {
    await plane?.dispose();
  });

  it("push a running job's round closes to its owner in order, without polling", async () => {
    const { apiKey } = await OwnerClient.createTenant({ baseUrl: plane.url, adminKey: ADMIN_KEY, name: "events" });
    const owner = new OwnerClient({ baseUrl: plane.url, apiKey });
    const run = await runEventJob({ url: plane.url, owner, apiKey, rounds: 3, devices: 2 });
    expect(run.events[0]).toMatchObject({ type: "snapshot", status: { id: run.job.id, state: "pending_model" } });
    expect(run.closes.map((c) => c.round)).toEqual([1, 2, 3]);
    const seqs = run.events.map((e) => e.seq);
    expect(seqs.slice(1).every((s, i) => s === seqs[i] + 1)).toBe(true);
    // Each round: opened, two devices bound, two updates accepted, closed, in that order.
    const round2 = run.events.filter((e) => "round" in e && e.round === 2).map((e) => e.type);
    expect(round2).toEqual(["round_opened", "device_bound", "device_bound", "update_accepted", "update_accepted", "round_closed"]);
    expect(run.events.at(-1)).toMatchObject({ type: "state_changed", from: "running", to: "done" });
    for (const close of run.closes) expect(close.receivedAt).toBeGreaterThanOrEqual(close.closedAt);
    const closed = run.final.rounds.filter((r) => r.status === "closed");
    expect(closed.map((r) => r.closedAt)).toEqual(run.closes.map((c) => c.closedAt));
  });
});
