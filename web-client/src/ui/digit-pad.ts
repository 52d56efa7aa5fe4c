import { byId, text } from "./view.js";

/** Side of the model's input image: the pad is scaled down to side x side grey levels. */
const SIDE = 28;

/**
 * The drawing pad of the "try the model" panel. It turns a drawing into the model's input (784
 * grey levels, bright ink on black, as in MNIST); running the model on it is ONNX Runtime Web's
 * job, which this build does not include yet, and the panel says so rather than guess.
 */
export function setUpDigitPad(): { pixels(): Float32Array } {
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
    if (drawing) text("inference", notAvailable);
    drawing = false;
  };
  pad.addEventListener("pointerup", stop);
  pad.addEventListener("pointerleave", stop);
  byId("clear-pad").addEventListener("click", clear);
  const notAvailable = "Inference is not available yet: this build does not include the ONNX export and runtime, so no prediction is shown.";
  text("inference", notAvailable);
  return {
    pixels() {
      const small = new OffscreenCanvas(SIDE, SIDE);
      const smallContext = small.getContext("2d")!;
      smallContext.drawImage(pad, 0, 0, SIDE, SIDE);
      const { data } = smallContext.getImageData(0, 0, SIDE, SIDE);
      return Float32Array.from({ length: SIDE * SIDE }, (_, i) => data[4 * i] / 255);
    },
  };
}
