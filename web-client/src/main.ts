import { PROTOCOL_VERSION } from "@propius/shared";

/** The contribute page (placeholder): reports whether the control plane answers and speaks our protocol. */
const status = document.querySelector<HTMLParagraphElement>("#status")!;
const controlPlane = new URLSearchParams(location.search).get("control") ?? location.origin;

fetch(`${controlPlane}/v1/health`)
  .then((response) => response.json() as Promise<{ ok: boolean; protocol: number }>)
  .then((health) => {
    status.textContent =
      health.protocol === PROTOCOL_VERSION
        ? `Control plane at ${controlPlane} is up (protocol v${health.protocol}). Training in the browser is coming next.`
        : `Control plane at ${controlPlane} speaks protocol v${health.protocol}; this page speaks v${PROTOCOL_VERSION}.`;
  })
  .catch(() => {
    status.textContent = `No control plane answers at ${controlPlane}. Start one with 'npm start -- --keep-running'.`;
  });
