import { killScenario } from "./fault-kills.js";
import { outageScenario } from "./fault-outages.js";
import { dropoutScenario } from "./fault-dropout.js";
import { stallScenario } from "./fault-stall.js";
import { poisonScenario } from "./fault-poison.js";
import { soakScenario } from "./fault-soak.js";
import type { FaultContext, FaultResult } from "./fault-scenario.js";

export const FAULT_SCENARIOS = ["kills", "outages", "dropout", "stall", "poison-finite", "soak"] as const;
export type FaultScenario = (typeof FAULT_SCENARIOS)[number];

export interface FaultOptions {
  scenarios: FaultScenario[];
  kills: number;
  killRounds: number;
  outagesSeconds: number[];
  browser: boolean;
  dropoutRounds: number;
  readTimeoutSeconds: number;
  soakMinutes: number;
  soakDevices: number;
  /** The soak judged beside a one-line Worker sent the same traffic afterwards. */
  soakReference: boolean;
  seed: number;
}

/** The suite's options from its command line's values; throws a RangeError naming the bad one. */
export function parseFaultOptions(args: Record<string, string | boolean | undefined>): FaultOptions {
  const text = (name: string) => String(args[name] ?? "");
  const number = (name: string, min: number, integer = true) => {
    const value = Number(text(name));
    if (!(value >= min) || (integer && !Number.isInteger(value))) throw new RangeError(`--${name} takes ${integer ? "an integer" : "a number"} of at least ${min}, not "${text(name)}"`);
    return value;
  };
  const scenarios = text("scenario").split(",").map((s) => s.trim()).map((s) => (s === "outage" ? "outages" : s));
  const unknown = scenarios.filter((s) => !(FAULT_SCENARIOS as readonly string[]).includes(s));
  if (unknown.length) throw new RangeError(`--scenario takes names among ${FAULT_SCENARIOS.join(", ")}, not ${unknown.join(", ")}`);
  const outagesSeconds = text("outages").split(",").map(Number);
  if (!outagesSeconds.every((s) => s > 0)) throw new RangeError(`--outages takes positive seconds, not "${text("outages")}"`);
  for (const name of ["browser", "soak-reference"]) if (!["on", "off"].includes(text(name))) throw new RangeError(`--${name} takes on or off, not "${text(name)}"`);
  return {
    scenarios: scenarios as FaultScenario[], kills: number("kills", 1), killRounds: number("kill-rounds", 2), outagesSeconds, browser: text("browser") === "on",
    dropoutRounds: number("dropout-rounds", 1), readTimeoutSeconds: number("read-timeout", 0.1, false), soakMinutes: number("soak-minutes", 0.1, false),
    soakDevices: number("soak-devices", 1), soakReference: text("soak-reference") === "on", seed: number("seed", 0),
  };
}

/** Runs one scenario with the suite's options. */
export function runScenario(name: FaultScenario, ctx: FaultContext, o: FaultOptions): Promise<FaultResult> {
  switch (name) {
    case "kills":
      return killScenario(ctx, { kills: o.kills, devices: 4, rounds: o.killRounds, gapSeconds: [1, 6] });
    case "outages":
      return outageScenario(ctx, { outagesSeconds: o.outagesSeconds, nodeDevices: 2, browser: o.browser });
    case "dropout":
      return dropoutScenario(ctx, { rounds: o.dropoutRounds, demand: 10, fraction: 0.3 });
    case "stall":
      return stallScenario(ctx, { readTimeoutSeconds: o.readTimeoutSeconds, vars: { UPLOAD_IDLE_MS: String(Math.round(o.readTimeoutSeconds * 1000)) }, honest: 4 });
    case "poison-finite":
      return poisonScenario(ctx);
    case "soak":
      return soakScenario(ctx, { minutes: o.soakMinutes, devices: o.soakDevices, controlSeconds: 60, reference: o.soakReference });
  }
}
