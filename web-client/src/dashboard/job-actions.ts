import type { OwnerClient } from "@propius/edge-runtime";
import type { JobStatus } from "@propius/shared";
import { describeError, element } from "./format.js";

/**
 * The owner's actions on a job: change the demand of the rounds that open from now on, cancel the
 * job, download its current model as a tfjs artifact. `onStatus` gets the status an action answered.
 * The returned element listens for a `status` event (the page's latest status) to fill the demand.
 */
export function jobActions(client: OwnerClient, jobId: string, onStatus: (status: JobStatus) => void): HTMLElement {
  const box = element("section", "", "actions");
  const message = element("p", "", "muted");
  message.id = "action-message";
  message.setAttribute("role", "status");
  const say = (text: string) => (message.textContent = text);

  const demand = element("input");
  Object.assign(demand, { type: "number", min: "1", step: "1", id: "demand" });
  demand.setAttribute("aria-label", "devices per round");
  const setDemand = element("button", "Set demand");
  setDemand.id = "set-demand";
  const cancel = element("button", "Cancel job", "danger");
  cancel.id = "cancel";
  const download = element("button", "Download model");
  download.id = "download";
  const files = element("span", "", "files");

  box.addEventListener("status", (event) => {
    const status = (event as CustomEvent<JobStatus>).detail;
    if (document.activeElement !== demand) demand.value = String(status.spec.plan.clientsPerRound);
  });

  setDemand.onclick = () =>
    act(setDemand, async () => {
      const status = await client.setDemand(jobId, Number(demand.value));
      onStatus(status);
      say(`demand set to ${status.spec.plan.clientsPerRound} devices per round, from the next round on`);
    });
  cancel.onclick = () => {
    if (!confirm(`Cancel job ${jobId}? Its running round stops and no round opens after it.`)) return;
    void act(cancel, async () => {
      const status = await client.cancel(jobId);
      onStatus(status);
      say(`job ${status.state}`);
    });
  };
  download.onclick = () =>
    act(download, async () => {
      // model.json and weights.bin of one version (the SDK reads the version's hash first).
      const { modelJson, weights } = await client.model(jobId);
      for (const link of files.querySelectorAll("a")) URL.revokeObjectURL(link.href);
      files.replaceChildren(
        fileLink("model.json", new Blob([JSON.stringify(modelJson)], { type: "application/json" })),
        fileLink("weights.bin", new Blob([new Uint8Array(weights.buffer as ArrayBuffer, weights.byteOffset, weights.byteLength)], { type: "application/octet-stream" })),
      );
      say(`model version ${modelJson.propius.hash.slice(0, 12)}…: save both files into one folder (tf.loadLayersModel reads model.json)`);
    });

  async function act(button: HTMLButtonElement, action: () => Promise<void>): Promise<void> {
    button.disabled = true;
    say("…");
    try {
      await action();
    } catch (error) {
      say(describeError(error));
    } finally {
      button.disabled = false;
    }
  }

  const demandLabel = element("label", "devices per round ");
  demandLabel.append(demand);
  box.append(demandLabel, setDemand, cancel, download, files, message);
  return box;
}

function fileLink(name: string, blob: Blob): HTMLAnchorElement {
  const link = element("a", name);
  link.href = URL.createObjectURL(blob);
  link.download = name;
  return link;
}
