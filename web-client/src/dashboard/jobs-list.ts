import type { OwnerClient } from "@propius/edge-runtime";
import type { JobStatus, JobSummary } from "@propius/shared";
import { describeError, element, formatTime, starvationText } from "./format.js";

/** Rounds closed of the job's total, 0 to 1. */
export function progressOf(status: Pick<JobStatus, "state" | "totalRounds" | "rounds">): number {
  if (status.state === "done") return 1;
  const closed = new Set(status.rounds.filter((r) => r.status === "closed").map((r) => r.round)).size;
  return status.totalRounds === 0 ? 0 : Math.min(1, closed / status.totalRounds);
}

/**
 * The tenant's jobs, newest first, each with its state and progress. `GET /v1/jobs` lists jobs
 * without their rounds, so each row asks for its job's status (one request per job, in parallel).
 */
export async function showJobs(container: HTMLElement, client: OwnerClient): Promise<void> {
  container.replaceChildren(element("p", "Loading jobs…", "muted"));
  const { jobs } = await client.jobs();
  if (jobs.length === 0) {
    container.replaceChildren(element("p", "This tenant has no jobs yet (create one with `propius jobs create`).", "muted"));
    return;
  }
  const table = element("table", "", "jobs");
  table.createTHead().insertRow().append(...["job", "state", "progress", "created"].map((h) => element("th", h)));
  const body = table.createTBody();
  const rows = [...jobs].reverse().map((job) => jobRow(body, job));
  container.replaceChildren(table);
  await Promise.all(
    jobs.map(async (job, i) => {
      const row = rows[jobs.length - 1 - i];
      try {
        fillProgress(row, await client.status(job.id));
      } catch (error) {
        row.cells[2].textContent = describeError(error);
      }
    }),
  );
}

function jobRow(body: HTMLTableSectionElement, job: JobSummary): HTMLTableRowElement {
  const row = body.insertRow();
  row.dataset.job = job.id;
  const link = element("a", job.name);
  link.href = `#/jobs/${job.id}`;
  row.insertCell().append(link, element("br"), element("small", job.id, "muted"));
  row.insertCell().append(element("span", job.state, `state state-${job.state}`));
  row.insertCell().textContent = "…";
  row.insertCell().textContent = formatTime(job.createdAt);
  return row;
}

function fillProgress(row: HTMLTableRowElement, status: JobStatus): void {
  const bar = element("progress");
  bar.max = 1;
  bar.value = progressOf(status);
  const closed = Math.round(progressOf(status) * status.totalRounds);
  row.cells[1].replaceChildren(element("span", status.state, `state state-${status.state}`));
  row.cells[2].replaceChildren(bar, element("span", ` ${closed} / ${status.totalRounds} rounds`));
  const starvation = status.starvation;
  // A running job whose rounds cannot fill says so, with the figures (see GET /v1/jobs/:id).
  if (starvation?.starved) {
    row.cells[2].append(element("br"), element("small", starvationText(starvation), "starved"));
  }
}
