import type { ScarcityPlan } from "../job/scarcity-plan.js";
import { EligibleCounter, withAdmission } from "../scheduling/admission.js";
import { checkIn, createPolicy, meetsConstraints, type PolicyName, type SupplySample } from "../scheduling/policies/index.js";
import { DEFAULT_DEVICE_MODEL, sampleDevices, taskSeconds, type DatasetSizeRecord, type DeviceModel, type DeviceSpecRecord, type SimDevice } from "./devices.js";
import { EventQueue } from "./event-queue.js";
import { InvariantMonitor } from "./invariant-monitor.js";
import { newStats, summarize, type SimulationResult } from "./metrics.js";
import { exponential, jitter, seededRandom, type Random } from "./random.js";
import { Rounds, type RunJob } from "./rounds.js";
import { workloadJobs, type Workload } from "./workload.js";

export interface SimulationInput {
  workload: Workload;
  deviceSpecs: readonly DeviceSpecRecord[];
  datasetSizes: readonly DatasetSizeRecord[];
  policy: PolicyName;
  seed: number;
  /** Devices to simulate (default: the workload's `clients`). */
  devices?: number;
  model?: Partial<DeviceModel>;
  /** Seconds after which a device that got no task checks in again (jittered by +/- 20 %). */
  retryS?: number;
  /** A round closes at its report deadline if at least this fraction of its demand reported. */
  minReportFraction?: number;
  /**
   * The supply sample, as the client managers keep it: the devices heard from (a check-in, or a
   * task in progress, which pings) within the last `supplySpanS` seconds, taken afresh every
   * `supplyRefreshS` simulated seconds.
   */
  supplySpanS?: number;
  supplyRefreshS?: number;
  /** The simulation stops here if jobs are still running. */
  maxSimulatedS?: number;
  /** ... or when no round has closed for this long while jobs were running (a livelock). */
  stallS?: number;
  /**
   * Feasibility-aware admission (default on): a round attempt opens only when the supply sample
   * says it can reach its minimum within its selection window. Off: attempts open and retry at once,
   * whatever the supply (the behaviour to compare against). Baselines (static partitioning,
   * client-side random choice) run without it, as the systems they stand for.
   */
  admission?: boolean;
  /** What every job does when its rounds cannot fill: smaller rounds, a time limit (see job/scarcity-plan.ts). */
  scarcity?: ScarcityPlan;
  onProgress?: (progress: SimulationProgress) => void;
}

export interface SimulationProgress {
  policy: PolicyName;
  simulatedS: number;
  roundsDone: number;
  roundsTotal: number;
  jobsDone: number;
  jobsTotal: number;
}

const enum Kind {
  Arrive,
  Online,
  Offline,
  CheckIn,
  TaskEnd,
  SelectionEnd,
  Deadline,
  SupplyRefresh,
}

interface Ev {
  kind: Kind;
  /** A device or a job index. */
  target: number;
  /** The device's epoch or the job's attempt sequence the event belongs to. */
  tag: number;
}

/** Seconds a device waits after it reported or gave up before it checks in again. */
const AFTER_TASK_S = 1;

/**
 * Runs one policy over a workload in simulated time. Devices come online and go offline, check in,
 * and are bound by the policy through the same `checkIn` and round-slot ledger as the server;
 * they download the model, train and upload in a time set by their speed and link; rounds close at
 * demand, or at their deadline with enough reports, or are retried.
 */
export function simulate(input: SimulationInput): SimulationResult {
  const started = performance.now();
  const model: DeviceModel = { ...DEFAULT_DEVICE_MODEL, ...input.model };
  const retryS = input.retryS ?? 10;
  const minReportFraction = input.minReportFraction ?? 0.8;
  const supplySpanS = input.supplySpanS ?? 60;
  const refreshS = input.supplyRefreshS ?? 10;
  const maxS = input.maxSimulatedS ?? 60 * 86_400;
  const stallS = input.stallS ?? 2 * 86_400;
  const modelKbit = input.workload.model_size_kbit;

  const devices = sampleDevices(input.devices ?? input.workload.clients, input.deviceSpecs, input.datasetSizes, model, input.seed);
  const eligible = new EligibleCounter();
  const bare = createPolicy(input.policy);
  const admission = (input.admission ?? true) && !bare.baseline;
  const policy = admission ? withAdmission(bare, eligible) : bare;
  const policyRandom = seededRandom(input.seed, 3);
  const timingRandom = seededRandom(input.seed, 2);
  const availability: Random[] = devices.map((d) => seededRandom(input.seed, 1_000_000 + d.index));
  const monitor = new InvariantMonitor();
  const queue = new EventQueue<Ev>();

  const n = devices.length;
  const online = new Uint8Array(n);
  const epoch = new Int32Array(n);
  const onlineSince = new Float64Array(n);
  const taskJob = new Int32Array(n).fill(-1);
  const taskAttempt = new Int32Array(n);
  const taskStart = new Float64Array(n);
  const taskDone = new Uint8Array(n);
  const lastHeard = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
  const boundJob = new Int32Array(n).fill(-1);
  const boundAttempt = new Int32Array(n);

  const stats = newStats();
  const specs = workloadJobs(input.workload);
  const roundsTotal = specs.reduce((sum, spec) => sum + spec.rounds, 0);
  const push = (time: number, kind: Kind, target: number, tag = 0) => queue.push(time, { kind, target, tag });
  const rounds = new Rounds(
    specs, minReportFraction, stats, monitor,
    (time, what, job, seq) => push(time, what === "selection" ? Kind.SelectionEnd : Kind.Deadline, job, seq),
    admission ? (job) => eligible.decide(job.view, supply).admitted : null,
    releaseDevices,
    input.scarcity,
  );
  const { jobs } = rounds;
  const ms = (seconds: number) => seconds * 1000;
  let supply: SupplySample = { version: 0, spanSeconds: supplySpanS, devices: [] };
  let now = 0;

  function scheduleCheckIn(d: number, t: number): void {
    epoch[d] += 1;
    push(t, Kind.CheckIn, d, epoch[d]);
  }

  function startTask(d: number, job: RunJob, t: number): void {
    const device = devices[d];
    const duration = taskSeconds(device, job.spec.samplesPerTask, modelKbit);
    const leaseEnd = job.slots.deadline / 1000;
    epoch[d] += 1;
    taskJob[d] = job.index;
    taskAttempt[d] = job.attemptSeq;
    taskStart[d] = t;
    // A device that cannot finish before its lease ends gives up there (it knows the deadline).
    taskDone[d] = t + duration <= leaseEnd ? 1 : 0;
    push(taskDone[d] ? t + duration : leaseEnd, Kind.TaskEnd, d, epoch[d]);
  }

  /** The devices still training for an attempt that ended early stop, and check in again. */
  function releaseDevices(job: RunJob, attemptSeq: number, t: number): void {
    for (let d = 0; d < n; d++) {
      if (taskJob[d] !== job.index || taskAttempt[d] !== attemptSeq) continue;
      stats.wasted += t - taskStart[d];
      stats.released += 1;
      taskJob[d] = -1;
      lastHeard[d] = t;
      scheduleCheckIn(d, t + AFTER_TASK_S);
    }
  }

  function onCheckIn(d: number, t: number): void {
    stats.checkIns += 1;
    const device = devices[d];
    lastHeard[d] = t;
    let open = 0;
    for (const job of rounds.running) open += job.view.openSlots = job.slots.open(ms(t));
    let holding: RunJob | null = null;
    if (boundJob[d] >= 0) {
      const job = jobs[boundJob[d]];
      if (job.attemptSeq === boundAttempt[d] && job.slots.holder(device.view.id, ms(t))?.status === "bound") holding = job;
    }
    if (!holding && open === 0) {
      if (!policy.serverSideEligibility && rounds.running.length > 0) stats.refused += 1;
      scheduleCheckIn(d, t + jitter(timingRandom, retryS));
      return;
    }
    const outcome = checkIn({
      policy,
      view: { now: ms(t), jobs: rounds.views, supply },
      device: device.view,
      random: policyRandom,
      holding: holding?.view ?? null,
      acceptsPrivately: (view) => meetsConstraints(device.privateAttributes, rounds.byView(view).spec.privateConstraints),
      claim: (view) => rounds.byView(view).slots.claim(device.view.id, ms(t)).kind === "bind",
    });
    stats.refused += outcome.refused;
    if (outcome.kind === "wait") {
      scheduleCheckIn(d, t + jitter(timingRandom, retryS));
      return;
    }
    const job = rounds.byView(outcome.job);
    if (outcome.kind === "bound") {
      stats.bindings += 1;
      boundJob[d] = job.index;
      boundAttempt[d] = job.attemptSeq;
      monitor.onBind(device, job.spec, String(job.attemptSeq), job.slots.holder(device.view.id, ms(t))!.leaseUntil, ms(t));
      rounds.filled(job, t);
    }
    startTask(d, job, t);
  }

  function onTaskEnd(d: number, t: number): void {
    const job = jobs[taskJob[d]];
    const seconds = t - taskStart[d];
    taskJob[d] = -1;
    lastHeard[d] = t;
    let counted = false;
    if (!taskDone[d]) stats.abandoned += 1;
    else if (rounds.report(job, taskAttempt[d], devices[d].view.id, seconds, t)) {
      counted = true;
      monitor.onReport(devices[d]);
    }
    if (!counted) stats.wasted += seconds;
    scheduleCheckIn(d, t + AFTER_TASK_S);
  }

  specs.forEach((spec, i) => push(spec.arrivalS, Kind.Arrive, i));
  const onlineShare = model.meanOnlineS / (model.meanOnlineS + model.meanOfflineS);
  for (let d = 0; d < n; d++) {
    // Start in the steady state: online with the long-run share, for a memoryless remaining period.
    const r = availability[d];
    if (r() < onlineShare) push(0, Kind.Online, d);
    else push(exponential(r, model.meanOfflineS), Kind.Online, d);
  }
  push(refreshS, Kind.SupplyRefresh, 0);

  let lastReport = performance.now();
  let events = 0;
  let progressAt = 0;
  let progressRounds = 0;
  let stalled = false;
  while (rounds.done < jobs.length) {
    const ev = queue.pop();
    if (!ev) break;
    now = queue.lastTime;
    if (now > maxS) {
      now = maxS;
      break;
    }
    if (stats.roundsDone !== progressRounds || rounds.running.length === 0) {
      progressRounds = stats.roundsDone;
      progressAt = now;
    } else if (now - progressAt > stallS) {
      stalled = true;
      break;
    }
    if (++events % 65_536 === 0 && input.onProgress && performance.now() - lastReport > 1_000) {
      lastReport = performance.now();
      input.onProgress({ policy: input.policy, simulatedS: now, roundsDone: stats.roundsDone, roundsTotal, jobsDone: rounds.done, jobsTotal: jobs.length });
    }
    const d = ev.target;
    switch (ev.kind) {
      case Kind.Arrive:
        rounds.arrive(jobs[d], now);
        break;
      case Kind.Online:
        online[d] = 1;
        onlineSince[d] = now;
        push(now + exponential(availability[d], model.meanOnlineS), Kind.Offline, d);
        scheduleCheckIn(d, now + timingRandom() * retryS);
        break;
      case Kind.Offline:
        if (taskJob[d] >= 0) {
          stats.dropped += 1;
          stats.wasted += now - taskStart[d];
          taskJob[d] = -1;
        }
        online[d] = 0;
        epoch[d] += 1;
        stats.available += now - onlineSince[d];
        push(now + exponential(availability[d], model.meanOfflineS), Kind.Online, d);
        break;
      case Kind.CheckIn:
        if (ev.tag === epoch[d] && online[d] && taskJob[d] < 0) onCheckIn(d, now);
        break;
      case Kind.TaskEnd:
        if (ev.tag === epoch[d] && taskJob[d] >= 0) onTaskEnd(d, now);
        break;
      case Kind.SelectionEnd:
        rounds.selectionTimeout(jobs[d], ev.tag, now);
        break;
      case Kind.Deadline:
        rounds.deadline(jobs[d], ev.tag, now);
        break;
      case Kind.SupplyRefresh: {
        const heard: SimDevice["view"][] = [];
        for (let i = 0; i < n; i++) if (taskJob[i] >= 0 || now - lastHeard[i] <= supplySpanS) heard.push(devices[i].view);
        supply = { version: supply.version + 1, spanSeconds: supplySpanS, devices: heard };
        rounds.review(now);
        push(now + refreshS, Kind.SupplyRefresh, 0);
        break;
      }
    }
  }
  for (let d = 0; d < n; d++) if (online[d]) stats.available += now - onlineSince[d];

  return summarize({
    policy: input.policy,
    seed: input.seed,
    devices: n,
    makespanS: now,
    stalled,
    stallS,
    jobs,
    stats,
    monitor,
    wallTimeS: (performance.now() - started) / 1000,
  });
}
