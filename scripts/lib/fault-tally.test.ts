import { describe, expect, it } from "vitest";
import type { EventLogLine } from "@propius/node-client";
import type { RoundRecord } from "@propius/shared";
import { tallyUpdates } from "./fault-tally.js";

const record = (round: number, attempt: number, reported: number, examples: number): RoundRecord =>
  ({ round, attempt, reported, examples, status: "closed" }) as RoundRecord;
const sent = (device: string, round: number, examples: number, attempt = 0): EventLogLine => ({ at: 0, device, type: "trained", round, attempt, kind: "train", examples });
const receipt = (device: string, round: number, attempt = 0): EventLogLine => ({ at: 0, device, type: "uploaded", round, attempt, kind: "train" });

describe("tallying acknowledged updates against the job's round records", () => {
  it("finds nothing wrong when every receipt is counted once, and an unacknowledged update may be counted", () => {
    const lines = [sent("a", 1, 10), receipt("a", 1), sent("b", 1, 20), sent("c", 1, 40), receipt("c", 1)];
    // b's receipt was cut off by a crash after the job had counted it.
    expect(tallyUpdates([record(1, 0, 3, 70)], lines)).toEqual({ acknowledged: 2, counted: 3, lost: 0, doubled: 0, unexplained: [] });
    expect(tallyUpdates([record(1, 0, 2, 50)], lines).unexplained).toEqual([]);
  });

  it("counts a receipt the records lack as lost, also when its attempt has no record", () => {
    const lines = [sent("a", 1, 10), receipt("a", 1), sent("b", 1, 20), receipt("b", 1), sent("a", 2, 10), receipt("a", 2)];
    const tally = tallyUpdates([record(1, 0, 1, 10)], lines);
    expect(tally).toMatchObject({ acknowledged: 3, lost: 2, doubled: 0 });
  });

  it("counts as doubled more updates than devices sent, a second receipt for one task, and examples no set of updates adds up to", () => {
    const lines = [sent("a", 1, 10), receipt("a", 1), sent("b", 1, 20), receipt("b", 1)];
    expect(tallyUpdates([record(1, 0, 3, 40)], lines).doubled).toBe(1);
    expect(tallyUpdates([record(1, 0, 2, 30)], [...lines, receipt("b", 1)]).doubled).toBe(1);
    // Two updates counted, as many as were sent, but a's counted twice in place of b's.
    expect(tallyUpdates([record(1, 0, 2, 20)], [sent("a", 1, 10), receipt("a", 1), sent("b", 1, 20)]).unexplained).toHaveLength(1);
  });

  it("keeps attempts of one round apart", () => {
    const lines = [sent("a", 1, 10, 0), receipt("a", 1, 0), sent("a", 1, 10, 1), receipt("a", 1, 1)];
    expect(tallyUpdates([{ ...record(1, 0, 1, 10), status: "retried" }, record(1, 1, 1, 10)], lines)).toMatchObject({ acknowledged: 2, counted: 2, lost: 0, doubled: 0 });
    expect(tallyUpdates([record(1, 1, 2, 20)], lines)).toMatchObject({ lost: 1, doubled: 1 });
  });
});
