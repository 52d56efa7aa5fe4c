import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OwnerClient } from "@propius/edge-runtime";
import type { JobStatus } from "@propius/shared";
import { createDemoJob } from "../../scripts/lib/demo-job.js";
import { startDemoClients, stopAll } from "../../scripts/lib/demo-clients.js";
import { promtoolCheck } from "../../scripts/lib/promtool.js";
import { ADMIN_KEY, TestControlPlane, prepareDevices } from "./helpers.js";

const ROUNDS = 3;

/** The value of the one sample of `name` whose labels include every one of `labels` (0 when there is none). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const lines = text.split("\n").filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  if (lines.length > 1) throw new Error(`${lines.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return lines[0] === undefined ? 0 : Number(lines[0].slice(lines[0].lastIndexOf(" ") + 1));
}

/**
 * `GET /metrics` under `wrangler dev` while a demo job runs with real Node devices: the figures
 * move as rounds close, and `promtool check metrics` passes on what a scrape returns. The promtool
 * check runs when promtool is on the PATH; with CI=true (as `.ci/run` sets, after installing
 * Debian's prometheus package) a missing promtool fails the test instead of skipping the check.
 */
describe("GET /metrics under wrangler dev, during a running job", () => {
  let plane: TestControlPlane;
  let owner: OwnerClient;
  let apiKey: string;
  let dir: string;
  let entry: string;
  const lines: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "propius-metrics-"));
    const ready = prepareDevices(dir);
    plane = await TestControlPlane.start();
    ({ apiKey } = await OwnerClient.createTenant({ baseUrl: plane.url, adminKey: ADMIN_KEY, name: "metrics" }));
    owner = new OwnerClient({ baseUrl: plane.url, apiKey });
    entry = await ready;
  });
  afterAll(async () => {
    await plane?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  async function scrape(key: string): Promise<string> {
    const response = await fetch(`${plane.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    return text;
  }

  it(`counts ${ROUNDS} rounds as they close, and passes promtool while the job runs`, async () => {
    const job = await createDemoJob(owner, { rounds: ROUNDS, clients: 2, federatedEvaluation: false });
    const labels = { job_id: job.id, tenant: "metrics" };
    const devices = startDemoClients({ url: plane.url, count: 2, processes: 1, seed: 7, stateDir: join(dir, "devices"), cacheDir: join(dir, "cache"), entry, onLine: (i, line) => lines.push(`[${i}] ${line}`) });
    try {
      // Scrape as the tenant while the job runs: what rounds_closed read, with the rounds the job's status had closed just after.
      const seen: { closedByStatus: number; scraped: number }[] = [];
      let whileRunning: string | undefined;
      let status: JobStatus;
      const started = Date.now();
      for (;;) {
        const text = await scrape(apiKey);
        // Read after the scrape: the job records a close before it tells the directory, never after.
        status = await owner.status(job.id);
        const closedByStatus = status.rounds.filter((r) => r.status === "closed").length;
        seen.push({ closedByStatus, scraped: sample(text, "propius_rounds_closed_total", labels) });
        if (status.state === "running" && closedByStatus >= 1 && !whileRunning) {
          whileRunning = await scrape(ADMIN_KEY);
          const families = ["propius_rounds_closed_total", "propius_updates_accepted_total", "propius_round_duration_seconds", "propius_jobs"];
          console.log(`the tenant's scrape while the job ran, cut to a few families:\n${text.split("\n").filter((l) => families.some((f) => l.includes(f))).join("\n")}`);
        }
        if (status.state !== "running" && status.state !== "pending_model") break;
        if (Date.now() - started > 400_000) throw new Error(`the job did not finish:\n${lines.join("\n")}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(status.state, lines.join("\n")).toBe("done");

      // The job records its last close before it tells the directory: a scrape just after may lag it by that call.
      let final = await scrape(apiKey);
      for (let i = 0; i < 40 && sample(final, "propius_rounds_closed_total", labels) < ROUNDS; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        final = await scrape(apiKey);
      }
      seen.push({ closedByStatus: ROUNDS, scraped: sample(final, "propius_rounds_closed_total", labels) });

      // The counter never goes down, is never ahead of the job's own record, and took values between 0 and the end.
      const values = seen.map((s) => s.scraped);
      for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
      for (const s of seen) expect(s.scraped).toBeLessThanOrEqual(s.closedByStatus);
      const distinct = [...new Set(values)];
      console.log(`rounds_closed as scraped: ${distinct.join(" -> ")} over ${seen.length} scrapes`);
      expect(distinct[0]).toBe(0);
      expect(distinct.at(-1)).toBe(ROUNDS);
      expect(distinct.length).toBeGreaterThanOrEqual(3);

      expect(sample(final, "propius_updates_accepted_total", labels)).toBe(status.rounds.reduce((n, r) => n + r.reported, 0));
      expect(sample(final, "propius_update_received_bytes_total", labels)).toBe(status.rounds.reduce((n, r) => n + r.bytesIn, 0));
      expect(sample(final, "propius_round_duration_seconds_count", labels)).toBe(ROUNDS);
      expect(sample(final, "propius_aggregation_duration_seconds_count", labels)).toBe(ROUNDS);
      expect(sample(final, "propius_jobs", { tenant: "metrics", state: "done" })).toBe(1);

      // The shards report check-ins and bindings on their alarm, within about five seconds: as many bindings as the job counted.
      const bound = status.rounds.reduce((n, r) => n + r.bound, 0);
      const operator = await (async () => {
        for (let i = 0; ; i++) {
          const text = await scrape(ADMIN_KEY);
          if (sample(text, "propius_bindings_total", labels) >= bound || i >= 120) return text;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      })();
      expect(sample(operator, "propius_bindings_total", labels), `the job's rounds bound ${bound} devices`).toBe(bound);
      expect(sample(operator, "propius_checkins_total", { transport: "http" }) + sample(operator, "propius_checkins_total", { transport: "push" })).toBeGreaterThan(0);
      expect(sample(operator, "propius_devices_registered")).toBe(2);

      for (const [when, text] of [["while the job ran", whileRunning!], ["after it finished", operator]] as const) {
        expect(text, "a scrape while the job ran").toBeDefined();
        const checked = await promtoolCheck(text);
        if (checked === null) {
          console.log("promtool is not on the PATH (and CI is not set): the scrape was not linted");
          break;
        }
        expect(checked, `promtool check metrics on the scrape ${when}:\n${text}`).toEqual({ code: 0, output: "" });
      }
    } finally {
      await stopAll(devices);
    }
  });
});
