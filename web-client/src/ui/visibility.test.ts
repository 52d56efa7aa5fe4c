import { describe, expect, it } from "vitest";
import { visibilityNote } from "./visibility.js";

describe("visibilityNote", () => {
  it("says nothing while the tab is visible", () => {
    expect(visibilityNote({ hidden: false, contributing: true, lagMs: 5000 })).toBe("");
  });

  it("says the tab is in the background, whether it trains, and how late its timers run when throttled", () => {
    expect(visibilityNote({ hidden: true, contributing: true, lagMs: 20 })).toBe("This tab is in the background. Training goes on in a worker as far as the browser allows.");
    expect(visibilityNote({ hidden: true, contributing: false, lagMs: 59_000 })).toBe(
      "This tab is in the background. Not contributing. The browser is throttling this tab: its timers run up to 59.0 s late.",
    );
  });
});
