import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseEventLog, type EventLogLine } from "@propius/node-client";
import type { RoundRecord } from "@propius/shared";
import { createDemoJob } from "./demo-job.js";
import { startDemoClients, stopAll } from "./demo-clients.js";
import { contributeUrl } from "./contribute-url.js";
import { tallyUpdates } from "./fault-tally.js";
import { seconds, sleep, waitFor, type FaultContext, type FaultResult } from "./fault-scenario.js";

export interface OutageOptions {
  /** Outage lengths in seconds, one after another on one job. */
  outagesSeconds: number[];
  nodeDevices: number;
  /** A headless Chromium tab on the built contribute page, as one more device. */
  browser: boolean;
}

/** A browser tab the scenario watches: its accepted updates and what its status line says. */
interface WatchedTab {
  accepted(): Promise<{ round: number; examples: number }[]>;
  /** The page's state (`data-state`) and status line. */
  state(): Promise<{ state: string; status: string }>;
  close(): Promise<void>;
}

const ROUND_DEADLINE_SECONDS = 60;

/**
 * The control plane killed and kept down for each outage in turn, then restarted on its state,
 * while Node devices (the CLI) and a browser tab work on one job. Every device must ride each outage
 * out (none exits) and have an update accepted after it; the time from restart to that update is
 * each device's time to recover.
 */
export async function outageScenario(ctx: FaultContext, options: OutageOptions): Promise<FaultResult> {
  const dir = join(ctx.workDir, "outages");
  await mkdir(dir, { recursive: true });
  const shards = options.nodeDevices + (options.browser ? 1 : 0);
  if (options.browser) await (await import("./web-page.js")).ensureWebPage({ log: ctx.log });
  // A job created while a tab waits is offered at its next check-in, not a cached job list later.
  const plane = await ctx.startPlane({ SCHEDULER_VIEW_TTL_MS: "0" });
  const logFile = join(dir, "events.jsonl");
  const output: string[] = [];
  const readLines = async () => parseEventLog(await readFile(logFile, "utf8").catch(() => ""));
  let tab: WatchedTab | null = null;
  const outages: { seconds: number; killedAt: number; backAt: number; recovery: Record<string, number | null>; sawOutage: Record<string, boolean> }[] = [];
  try {
    const owner = await plane.owner("faults-outages");
    const job = await createDemoJob(owner, { rounds: 10_000, clients: shards, roundDeadlineSeconds: ROUND_DEADLINE_SECONDS, federatedEvaluation: false, minExamples: 0 });
    const devices = startDemoClients({
      url: plane.url, count: options.nodeDevices, shards, seed: ctx.seed, stateDir: dir, entry: ctx.deviceEntry, cacheDir: ctx.cacheDir, processes: 1,
      args: () => ["--event-log", logFile, "--quiet"], onLine: (i, line) => output.push(`[${i}] ${line}`),
    });
    const exits: string[] = [];
    for (const child of devices) child.once("exit", (code, signal) => exits.push(`a Node device process exited (${code ?? signal})`));
    try {
      if (options.browser) tab = await watchTab(`${contributeUrl(plane.url, { shard: options.nodeDevices, shards, seed: ctx.seed })}&autostart=1`);
      const nodeIds = async () => new Set((await readLines()).filter((l) => l.type === "uploaded").map((l) => l.device));
      await waitFor(async () => (await nodeIds()).size === options.nodeDevices && (!tab || (await tab.accepted()).length > 0), (ready) => ready, 300_000, 1_000);
      const ids = [...(await nodeIds())];
      if (ids.length < options.nodeDevices || (tab && (await tab.accepted()).length === 0)) throw new Error(`the devices did not all have an update accepted within 300 s: ${output.slice(-5).join(" | ")}`);
      ctx.log(`  ${ids.length} Node devices${tab ? " and a browser tab" : ""} have had updates accepted`);
      for (const length of options.outagesSeconds) {
        const tabBefore = tab ? (await tab.accepted()).length : 0;
        const killedAt = Date.now();
        await plane.kill();
        let tabSawOutage = false;
        while (Date.now() < killedAt + length * 1000) {
          if (tab && /cannot be reached/.test((await tab.state()).status)) tabSawOutage = true;
          await sleep(Math.min(2_000, Math.max(0, killedAt + length * 1000 - Date.now())));
        }
        await plane.restart();
        const backAt = Date.now();
        const recovery: Record<string, number | null> = {};
        await waitFor(async () => {
          const lines = await readLines();
          for (const id of ids) if (recovery[id] == null) { const s = firstAccepted(lines, id, backAt); if (s !== undefined) recovery[id] = s; }
          if (tab && recovery.tab === undefined && (await tab.accepted()).length > tabBefore) recovery.tab = seconds(Date.now() - backAt);
          return ids.every((id) => recovery[id] != null) && (!tab || recovery.tab !== undefined);
        }, (done) => done, 180_000, 500);
        const lines = await readLines();
        const sawOutage: Record<string, boolean> = Object.fromEntries(ids.map((id) => [id, lines.some((l) => l.device === id && l.type === "outage" && l.at >= killedAt && l.at <= backAt)]));
        if (tab) ((sawOutage.tab = tabSawOutage), (recovery.tab ??= null));
        for (const id of ids) recovery[id] ??= null;
        outages.push({ seconds: length, killedAt, backAt, recovery, sawOutage });
        ctx.log(`  down ${length} s: back after ${seconds(backAt - killedAt)} s; time to recover per device (s): ${Object.entries(recovery).map(([id, s]) => `${label(id, ids)} ${s ?? "never"}`).join(", ")}`);
      }
      const final = await owner.status(job.id);
      const lines = await readLines();
      const tabAccepted = tab ? await tab.accepted() : [];
      const tally = tallyUpdates(final.rounds, [...lines, ...tabLines(tabAccepted, final.rounds)]);
      const tabState = tab ? await tab.state() : null;
      const rounds = endedByDeadline(final.rounds, outages);
      const recovered = outages.flatMap((o) => Object.values(o.recovery));
      const allRecovered = recovered.every((s) => s !== null);
      const allSaw = outages.every((o) => Object.values(o.sawOutage).every(Boolean));
      const tabRunning = !tabState || tabState.state === "contributing";
      const passed = allRecovered && allSaw && exits.length === 0 && tabRunning && tally.lost === 0 && tally.doubled === 0 && tally.unexplained.length === 0 && rounds.byDeadline === rounds.ended;
      const detail = [
        `${options.nodeDevices} Node devices (the CLI, training the demo's MNIST model)${tab ? " and a headless Chromium tab on the built contribute page" : ""} on one job; the control plane SIGKILLed and kept down for ${options.outagesSeconds.join(" s, ")} s in turn, then restarted on its state.`,
        ...outages.map((o) => `Down ${o.seconds} s (restarted after ${seconds(o.backAt - o.killedAt)} s): restart to the device's next accepted update, per device: ${Object.entries(o.recovery).map(([id, s]) => `${label(id, ids)} ${s === null ? "never" : `${s} s`}`).join(", ")}; saw the outage: ${Object.entries(o.sawOutage).map(([id, saw]) => `${label(id, ids)} ${saw ? "yes" : "no"}`).join(", ")}.`),
        `Devices that exited: ${exits.length === 0 && tabRunning ? "none" : [...exits, ...(tabRunning ? [] : [`the tab is ${tabState?.state}: ${tabState?.status}`])].join("; ")}.`,
        `Acknowledged updates ${tally.acknowledged}, counted ${tally.counted}: lost ${tally.lost}, double-counted ${tally.doubled}${tally.unexplained.length ? `; unexplained: ${tally.unexplained.join("; ")}` : ""}.`,
        `Round attempts ended by their deadline (+2 s; an attempt whose deadline fell while the plane was down, by its restart + 2 s): ${rounds.byDeadline} of ${rounds.ended}.`,
        ...(passed ? [] : output.slice(-10)),
      ];
      return {
        scenario: "outages", setup: `${options.outagesSeconds.join(" s, ")} s down; ${options.nodeDevices} Node devices${tab ? " + 1 browser tab" : ""}`, passed, tally, rounds,
        recoverySeconds: recovered.filter((s): s is number => s !== null), detail, figures: { outages },
      };
    } finally {
      await tab?.close();
      await stopAll(devices);
    }
  } finally {
    await plane.dispose();
  }
}

function label(id: string, ids: readonly string[]): string {
  return id === "tab" ? "tab" : `node ${ids.indexOf(id) + 1}`;
}

function firstAccepted(lines: readonly EventLogLine[], device: string, after: number): number | undefined {
  const line = lines.find((l) => l.device === device && l.type === "uploaded" && l.at >= after);
  return line ? seconds(line.at - after) : undefined;
}

/**
 * The tab's accepted updates as event-log lines: its history names the round, not the attempt, so
 * each is put in the attempt of that round that closed (an update accepted in an attempt that was
 * retried would then show as unexplained: a false alarm, never a false pass).
 */
function tabLines(accepted: readonly { round: number; examples: number }[], records: readonly RoundRecord[]): EventLogLine[] {
  return accepted.flatMap(({ round, examples }) => {
    const attempt = records.find((r) => r.round === round && r.status !== "retried")?.attempt ?? 0;
    return [{ at: 0, device: "tab", type: "trained", round, attempt, examples }, { at: 0, device: "tab", type: "uploaded", round, attempt }] as EventLogLine[];
  });
}

/** Attempts that ended by their deadline, or, when their deadline fell in an outage, by the restart after it (both + 2 s). */
function endedByDeadline(records: readonly RoundRecord[], outages: readonly { killedAt: number; backAt: number }[]): { byDeadline: number; ended: number } {
  const ended = records.filter((r) => r.closedAt !== null && (r.status === "closed" || r.status === "retried"));
  const due = (r: RoundRecord) => {
    const deadline = r.openedAt + ROUND_DEADLINE_SECONDS * 1000;
    return outages.find((o) => deadline >= o.killedAt && deadline <= o.backAt)?.backAt ?? deadline;
  };
  return { byDeadline: ended.filter((r) => r.closedAt! <= due(r) + 2_000).length, ended: ended.length };
}

async function watchTab(url: string): Promise<WatchedTab> {
  const { openTab, readPage } = await import("./chromium.js");
  const tab = await openTab(url, { webgpu: false });
  return {
    async accepted() {
      const page = await readPage(tab.page);
      return page.history.filter((row) => row[3] === "accepted").map((row) => ({ round: Number(row[2]), examples: Number(row[4]) }));
    },
    async state() {
      const page = await readPage(tab.page);
      return { state: page.state, status: page.status };
    },
    close: () => tab.close(),
  };
}
