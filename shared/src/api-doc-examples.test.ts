import { describe, expect, it } from "vitest";
import { ERROR_STATUS } from "./errors.js";
import { jobSpecSchema, withDerivedDefaults } from "./job-spec.js";
import { evaluationReportSchema, taskFailureSchema } from "./protocol.js";
import { jobEventSchema } from "./job-events.js";
import { jobDevicesSchema } from "./job-devices.js";

/**
 * docs/api.md's JSON examples are checked by the marker in their fence's info string (the doc
 * says what each means): a spec or body the doc shows must be one the control plane accepts.
 */
/** `shared` has no Node types (it runs in Workers and browsers too); this test alone runs in Node and reads the doc from disk. */
const NODE_FS = "node:fs";
const fs: { readFileSync(path: URL, encoding: "utf8"): string } = await import(NODE_FS);
const doc = fs.readFileSync(new URL("../../docs/api.md", import.meta.url), "utf8");
const blocks = [...doc.matchAll(/^```json(?: ([\w-]+))?\n([\s\S]*?)^```$/gm)].map((m, i) => ({ marker: m[1], text: m[2], at: `block ${i + 1} (json ${m[1] ?? "without a marker"})` }));
const marked = (marker: string) => blocks.filter((b) => b.marker === marker);
const MARKERS = ["job-spec", "job-status", "error", "task-failure", "evaluation-report", "counters", "job-event", "job-devices"];

describe("the JSON examples in docs/api.md", () => {
  it("are all marked with what they are", () => {
    expect(blocks.length).toBeGreaterThan(5);
    expect(blocks.filter((b) => !MARKERS.includes(b.marker ?? "")).map((b) => b.at)).toEqual([]);
  });

  it("show job specs that the job spec schema accepts", () => {
    expect(marked("job-spec").length).toBeGreaterThan(0);
    for (const block of marked("job-spec")) {
      const parsed = jobSpecSchema.safeParse(JSON.parse(block.text));
      expect(parsed.error?.issues ?? [], block.at).toEqual([]);
    }
  });

  it("show job statuses whose spec is an effective spec: parsed and given its derived defaults, it is unchanged", () => {
    expect(marked("job-status").length).toBeGreaterThan(0);
    for (const block of marked("job-status")) {
      const status = JSON.parse(block.text) as { spec: unknown; rounds: unknown[] };
      const parsed = jobSpecSchema.safeParse(status.spec);
      expect(parsed.error?.issues ?? [], block.at).toEqual([]);
      expect(withDerivedDefaults(parsed.data!), block.at).toEqual(status.spec);
      expect(Array.isArray(status.rounds), block.at).toBe(true);
    }
  });

  it("show error bodies with stable codes", () => {
    expect(marked("error").length).toBeGreaterThan(0);
    for (const block of marked("error")) {
      const body = JSON.parse(block.text) as { error: { code: string; message: string } };
      expect(Object.keys(body), block.at).toEqual(["error"]);
      expect(Object.keys(ERROR_STATUS), block.at).toContain(body.error.code);
      expect(body.error.message, block.at).toBeTypeOf("string");
    }
  });

  it("show device bodies that their schemas accept", () => {
    const checks = [["task-failure", taskFailureSchema], ["evaluation-report", evaluationReportSchema], ["job-event", jobEventSchema]] as const;
    for (const [marker, schema] of checks) {
      expect(marked(marker).length, marker).toBeGreaterThan(0);
      for (const block of marked(marker)) expect(schema.safeParse(JSON.parse(block.text)).error?.issues ?? [], block.at).toEqual([]);
    }
  });

  it("show counters whose sums add up: by method and by class to the totals, and per object to the same", () => {
    expect(marked("counters").length).toBeGreaterThan(0);
    type Counts = { statements: number; rows: number };
    for (const block of marked("counters")) {
      const body = JSON.parse(block.text) as { objects: (Counts & { class: string; calls: number })[]; calls: Record<string, number>; writes: Record<string, Counts>; totals: Counts & { calls: number } };
      const total = (values: number[]) => values.reduce((a, b) => a + b, 0);
      expect(total(Object.values(body.calls)), block.at).toBe(body.totals.calls);
      expect(total(body.objects.map((o) => o.calls)), block.at).toBe(body.totals.calls);
      for (const field of ["statements", "rows"] as const) {
        expect(total(Object.values(body.writes).map((w) => w[field])), block.at).toBe(body.totals[field]);
        expect(total(body.objects.map((o) => o[field])), block.at).toBe(body.totals[field]);
      }
      for (const key of Object.keys(body.calls)) expect(body.objects.map((o) => o.class), `${block.at}: ${key}`).toContain(key.split(".")[0]);
    }
  });

  it("show device lists that the job devices schema accepts", () => {
    expect(marked("job-devices").length).toBeGreaterThan(0);
    for (const block of marked("job-devices")) expect(jobDevicesSchema.safeParse(JSON.parse(block.text)).error?.issues ?? [], block.at).toEqual([]);
  });

  it("list every error code once, with its HTTP status, in the table of codes", () => {
    const rows = [...doc.matchAll(/^\| ([\d, ]+) \| (.*) \|$/gm)];
    const listed = rows.flatMap(([, statuses, codes]) => [...codes.matchAll(/`([a-z_]+)`/g)].map((m) => ({ code: m[1], statuses: statuses.split(", ").map(Number) })));
    expect(listed.map((l) => l.code).sort()).toEqual(Object.keys(ERROR_STATUS).sort());
    for (const { code, statuses } of listed) expect(statuses, code).toContain(ERROR_STATUS[code as keyof typeof ERROR_STATUS]);
  });
});
