import { describe, expect, it } from "vitest";
import type { CheckInReply } from "@propius/shared";
import { world } from "./scheduling-world.js";

const jobOf = (reply: CheckInReply) => (reply.status === "task" ? reply.task.jobId : reply.status);

describe("ClientManager", () => {
  it("binds a device to the first job in the policy's order, and gives it the same task while it holds the slot", async () => {
    const w = world([{ id: "job_aaaaaaaa" }, { id: "job_bbbbbbbb" }]);
    const first = await w.checkIn("c1");
    expect(jobOf(first)).toBe("job_aaaaaaaa");
    const again = await w.checkIn("c1");
    expect(again).toEqual(first);
  });

  it("never binds a device holding a live slot to a second job", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 1 }, { id: "job_bbbbbbbb" }]);
    expect(jobOf(await w.checkIn("c1"))).toBe("job_aaaaaaaa");
    // c2 finds job a full, so the shard stops offering a; c1 still holds its slot there and is not given b's.
    expect(jobOf(await w.checkIn("c2"))).toBe("job_bbbbbbbb");
    expect(jobOf(await w.checkIn("c1"))).toBe("job_aaaaaaaa");
  });

  it("moves a device that has reported on to the next job that wants it", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 2 }, { id: "job_bbbbbbbb" }]);
    const task = await w.checkIn("c1");
    await w.report("c1", task);
    expect(jobOf(await w.checkIn("c1"))).toBe("job_bbbbbbbb");
  });

  it("offers only the jobs a device is publicly eligible for", async () => {
    const w = world([{ id: "job_aaaaaaaa", constraints: { ram_gb: { min: 6 } } }, { id: "job_bbbbbbbb" }]);
    expect(jobOf(await w.checkIn("small", { ram_gb: 4 }))).toBe("job_bbbbbbbb");
    expect(jobOf(await w.checkIn("large", { ram_gb: 8 }))).toBe("job_aaaaaaaa");
  });

  it("offers jobs with private constraints for the device to choose, and binds the one it accepts", async () => {
    const w = world([{ id: "job_aaaaaaaa", privateConstraints: { dataset_size: { min: 100 } } }, { id: "job_bbbbbbbb" }]);
    const offer = await w.checkIn("c1");
    expect(offer).toMatchObject({
      status: "offer",
      offers: [{ jobId: "job_aaaaaaaa", privateConstraints: { dataset_size: { min: 100 } } }, { jobId: "job_bbbbbbbb", privateConstraints: {} }],
    });
    expect(w.calls.claims).toEqual([]);
    expect(jobOf(await w.checkIn("c1", {}, "job_bbbbbbbb"))).toBe("job_bbbbbbbb");
  });

  it("refuses an accepted job the device is not eligible for, or that is not running", async () => {
    const w = world([{ id: "job_aaaaaaaa", constraints: { platform: { in: ["browser"] } } }]);
    expect(await w.checkIn("c1", { platform: "node" }, "job_aaaaaaaa")).toMatchObject({ status: "wait", reason: "ineligible" });
    expect(await w.checkIn("c1", { platform: "node" }, "job_unknown00")).toMatchObject({ status: "wait", reason: "offer_expired" });
    expect(w.calls.claims).toEqual([]);
  });

  it("refuses a client-random pick the device is not eligible for, and the device waits", async () => {
    const w = world([{ id: "job_aaaaaaaa", constraints: { ram_gb: { min: 6 } } }], "client-random");
    expect(await w.checkIn("c1", { ram_gb: 2 })).toMatchObject({ status: "wait" });
    expect(w.calls.claims).toEqual([]);
  });

  it("stops offering a full round until the job says to try again", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 1 }]);
    await w.checkIn("c1");
    expect(await w.checkIn("c2")).toMatchObject({ status: "wait", reason: "round_full" });
    expect(await w.checkIn("c3")).toMatchObject({ status: "wait" });
    expect(w.calls.claims).toEqual(["job_aaaaaaaa", "job_aaaaaaaa"]);
  });

  it("reads the running jobs at most once per view TTL", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 10 }]);
    for (const id of ["c1", "c2", "c3"]) await w.checkIn(id);
    expect(w.calls.loadJobs).toBe(1);
    w.advance(1_000);
    await w.checkIn("c4");
    expect(w.calls.loadJobs).toBe(2);
  });

  it("learns how long a job's tasks take per unit of device speed, for tier matching", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 2 }, { id: "job_bbbbbbbb" }]);
    expect((await w.manager.view(w.now())).jobs[0].secondsPerSpeedUnit).toBeUndefined();
    const task = await w.checkIn("slow", { inference_latency: 4 });
    w.advance(20_000);
    await w.report("slow", task);
    expect(jobOf(await w.checkIn("slow", { inference_latency: 4 }))).toBe("job_bbbbbbbb");
    expect((await w.manager.view(w.now())).jobs[0].secondsPerSpeedUnit).toBe(5);
  });

  it("estimates supply from recent check-ins and pings, and forgets devices past the TTL", async () => {
    const w = world([]);
    await w.checkIn("c1", { ram_gb: 4 });
    await w.checkIn("c2", { ram_gb: 8 });
    w.advance(50_000);
    expect(w.manager.ping("c1", w.now())).toEqual({ known: true, ttlMs: 600_000 });
    w.advance(20_000);
    const { supply } = await w.manager.view(w.now());
    expect(supply.devices.map((d) => d.id)).toEqual(["c1"]);
    expect(w.manager.ping("ghost", w.now())).toMatchObject({ known: false });
    w.advance(600_000);
    expect(w.manager.prune(w.now())).toBe(2);
    expect(w.registry.get("c1")).toBeNull();
  });
});
