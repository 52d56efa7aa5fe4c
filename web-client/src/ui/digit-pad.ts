import type { Prediction } from "../contract.js";
import { byId, text } from "./view.js";

/** Side of the model's input image: the pad is scaled down to side x side grey levels. */
const SIDE = 28;

/** The drawing as the model's input: 784 grey levels in [0, 1], bright ink on black as in MNIST. */
function padPixels(pad: HTMLCanvasElement): Float32Array {
  const small = new OffscreenCanvas(SIDE, SIDE);
  const context = small.getContext("2d")!;
  context.drawImage(pad, 0, 0, SIDE, SIDE);
  const { data } = context.getImageData(0, 0, SIDE, SIDE);
  return Float32Array.from({ length: SIDE * SIDE }, (_, i) => data[4 * i] / 255);
}

export function describePrediction(prediction: Prediction): string {
  const ranked = prediction.probabilities.map((p, digit) => ({ p, digit })).sort((a, b) => b.p - a.p);
  const [best, ...rest] = ranked;
  const others = rest.slice(0, 2).map((r) => `${r.digit} (${(100 * r.p).toFixed(1)} %)`).join(", ");
  return `The model predicts ${best.digit} (${(100 * best.p).toFixed(1)} %); next ${others}. Model: job ${prediction.jobId} as round ${prediction.round} started, run with ONNX Runtime Web in this tab.`;
}

/**
 * The drawing pad of the "try the model" panel: when a stroke ends, the drawing goes to `predict`
 * (the worker runs the newest global model the tab has) and the answer is shown.
 */
export function setUpDigitPad(predict: (pixels: Float32Array) => Promise<Prediction>): void {
  const pad = byId<HTMLCanvasElement>("pad");
  const context = pad.getContext("2d")!;
  const clear = () => {
    context.fillStyle = "#000";
    context.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  context.strokeStyle = "#fff";
  context.lineWidth = pad.width / 12;
  context.lineCap = "round";
  context.lineJoin = "round";
  let drawing = false;
  pad.addEventListener("pointerdown", (e) => {
    drawing = true;
    context.beginPath();
    context.moveTo(e.offsetX, e.offsetY);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    context.lineTo(e.offsetX, e.offsetY);
    context.stroke();
  });
  const stop = () => {
    if (!drawing) return;
    drawing = false;
    predict(padPixels(pad)).then(
      (prediction) => text("inference", describePrediction(prediction)),
      (error: unknown) => text("inference", `No prediction: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  pad.addEventListener("pointerup", stop);
  pad.addEventListener("pointerleave", stop);
  byId("clear-pad").addEventListener("click", () => (clear(), text("inference", "")));
  text("inference", "Draw a digit once this tab has trained for a job: it runs the newest model the tab has.");
}
