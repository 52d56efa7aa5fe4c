import { JobEventSubscription, type OwnerClient, type WebSocketLike } from "@propius/edge-runtime";
import type { JobEvent, JobStatus, Starvation } from "@propius/shared";
import { JobRounds, type RoundRow } from "./job-rounds.js";
import { RoundCharts } from "./round-charts.js";
import { jobActions } from "./job-actions.js";
import { DevicesTable } from "./job-devices.js";
import { describeError, element, fixed, formatBytes, starvationText } from "./format.js";

/** Devices the page lists (the most recently seen). */
const DEVICES_SHOWN = 100;
/** While a job is starved, a binding refreshes its figures at most this often. */
const STARVED_REFRESH_MS = 10_000;

/**
 * A job's page: its state, live charts and rounds table, its devices, its effective spec and the
 * owner's actions. The rounds come from the job's event stream (a snapshot, then the events); a
 * dropped connection is reopened by the subscription, which replays what was missed. The devices
 * and the starvation figures are not events: they are read again when a round closes or is
 * retried and when the job's state changes.
 */
export class JobPage {
  private readonly rounds = new JobRounds();
  private subscription: JobEventSubscription | null = null;
  private charts: RoundCharts | null = null;
  private readonly header = element("div", "", "job-header");
  private readonly live = element("p", "connecting to the job's events…", "muted live");
  private readonly table = element("table", "", "rounds");
  private readonly spec = element("pre", "", "spec");
  private readonly devices = new DevicesTable();
  private readonly devicesError = element("p", "", "error");
  private readonly starvation = element("p", "", "starved banner");
  private refreshing = false;
  private refreshAgain = false;
  private refreshedAt = 0;
  private starved = false;
  private readonly actions: HTMLElement;
  private closed = false;

  constructor(private readonly container: HTMLElement, private readonly client: OwnerClient, private readonly jobId: string, private readonly apiKey: string) {
    this.actions = jobActions(client, jobId, (status) => this.showSpec(status));
  }

  async open(): Promise<void> {
    const chartBox = element("div", "", "charts");
    const back = element("a", "← all jobs");
    back.href = "#/";
    const specBox = element("details", "", "spec-box");
    specBox.append(element("summary", "Effective spec"), this.spec);
    this.table.createTHead().insertRow().append(...["round", "status", "bound", "reported", "failed", "train loss", "test acc", "fed. acc", "bytes in", "bytes out", "s"].map((h) => element("th", h)));
    this.table.createTBody();
    const tableBox = element("div", "", "table-scroll");
    tableBox.append(this.table);
    this.starvation.id = "starvation";
    this.starvation.setAttribute("role", "status");
    this.starvation.hidden = true;
    this.container.replaceChildren(back, this.header, this.live, this.starvation, this.actions, chartBox, element("h3", "Rounds"), tableBox, element("h3", "Devices"), this.devices.box, this.devicesError, specBox);
    this.charts = new RoundCharts(chartBox);
    this.subscription = await JobEventSubscription.open({
      baseUrl: this.client.baseUrl, apiKey: this.apiKey, jobId: this.jobId, attempts: 2,
      connector: (url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike,
      onEvent: (event) => this.onEvent(event),
    });
    if (this.closed) this.subscription.close();
  }

  close(): void {
    this.closed = true;
    this.subscription?.close();
    this.charts?.dispose();
  }

  private onEvent(event: JobEvent): void {
    if (event.type === "snapshot" || event.type === "round_closed" || event.type === "round_retried" || event.type === "state_changed") this.refresh();
    else if (event.type === "device_bound" && this.starved && Date.now() - this.refreshedAt > STARVED_REFRESH_MS) this.refresh();
    if (!this.rounds.apply(event)) return;
    if (event.type === "snapshot") this.showSpec(event.status);
    this.live.textContent = `live: event ${event.seq} (${event.type.replace("_", " ")}) at ${new Date(event.at).toLocaleTimeString()}`;
    this.live.dataset.seq = String(event.seq);
    this.draw();
  }

  private draw(): void {
    const status = this.rounds.status;
    const rows = this.rounds.list;
    const state = this.rounds.state ?? "pending_model";
    const closed = rows.filter((r) => r.status === "closed").length;
    const total = status?.totalRounds ?? 0;
    const bar = element("progress");
    [bar.max, bar.value] = [Math.max(1, total), closed];
    const refused = [...this.rounds.refused].map(([code, n]) => `${code} ${n}`).join(", ");
    this.header.replaceChildren(
      element("h2", status?.name ?? this.jobId),
      element("p", this.jobId, "muted"),
      element("span", state, `state state-${state}`),
      element("span", ` round ${this.rounds.currentRound} of ${total}, ${closed} closed `),
      bar,
      ...(refused ? [element("p", `updates refused: ${refused}`, "muted")] : []),
    );
    document.body.dataset.jobState = state;
    this.charts?.update(rows);
    this.fillTable(rows);
  }

  private fillTable(rows: RoundRow[]): void {
    const body = this.table.tBodies[0];
    body.replaceChildren();
    for (const r of rows) {
      const tr = body.insertRow();
      tr.dataset.round = String(r.round);
      const cells = [String(r.round), r.attempt > 1 ? `${r.status} (try ${r.attempt})` : r.status, String(r.bound), String(r.reported), String(r.failed), fixed(r.trainLoss), fixed(r.testAccuracy), fixed(r.evalAccuracy), formatBytes(r.bytesIn), formatBytes(r.bytesOut), r.durationSeconds === null ? "–" : r.durationSeconds.toFixed(1)];
      for (const cell of cells) tr.insertCell().textContent = cell;
    }
  }

  /** Reads the devices and the starvation figures again; a call while a read is under way asks for one more after it. */
  private refresh(): void {
    if (this.closed) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    this.refreshedAt = Date.now();
    void Promise.all([this.client.devices(this.jobId, { limit: DEVICES_SHOWN }), this.client.status(this.jobId)])
      .then(([{ devices }, status]) => {
        if (this.closed) return;
        this.devices.show(devices, DEVICES_SHOWN);
        this.showStarvation(status.starvation);
        this.devicesError.textContent = "";
      })
      .catch((error: unknown) => (this.devicesError.textContent = describeError(error)))
      .finally(() => {
        this.refreshing = false;
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.refresh();
        }
      });
  }

  /** A banner while the job's rounds cannot fill with the devices about (absent once the job ends). */
  private showStarvation(starvation: Starvation | undefined): void {
    this.starved = starvation?.starved === true;
    this.starvation.hidden = !this.starved;
    this.starvation.textContent = this.starved ? `${starvationText(starvation!)}. The round waits for more devices that meet the job's constraints.` : "";
  }

  private showSpec(status: JobStatus): void {
    this.spec.textContent = JSON.stringify(status.spec, (key, value) => (key === "topology" ? "(the model's topology, omitted)" : value), 2);
    this.actions.dispatchEvent(new CustomEvent("status", { detail: status }));
  }
}

