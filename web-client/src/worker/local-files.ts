import { parseCsvExamples, type LocalData } from "@propius/edge-runtime/training";
import type { DataSummary, FileBytes } from "../contract.js";

/** An image's label from its name: a leading digit class, e.g. `7.png`, `7_003.png` or `7-a.png`. */
export function labelFromName(name: string, classes: number): number {
  const match = /^(\d+)(?:[_\-. ]|$)/.exec(name.split("/").pop()!);
  const label = match ? Number(match[1]) : NaN;
  if (!Number.isInteger(label) || label >= classes) throw new Error(`${name}: an image's name must start with its label (0..${classes - 1}), e.g. '7_001.png'`);
  return label;
}

/** Decodes an image and scales it to side x side grey levels in [0, 1] (ink bright, as in MNIST). */
async function imagePixels(file: FileBytes, side: number): Promise<Float32Array> {
  const bitmap = await createImageBitmap(new Blob([file.bytes], { type: file.type || "image/png" }));
  const canvas = new OffscreenCanvas(side, side);
  const context = canvas.getContext("2d")!;
  context.drawImage(bitmap, 0, 0, side, side);
  bitmap.close();
  const { data } = context.getImageData(0, 0, side, side);
  const pixels = new Float32Array(side * side);
  let mean = 0;
  for (let i = 0; i < pixels.length; i++) {
    pixels[i] = (data[4 * i] + data[4 * i + 1] + data[4 * i + 2]) / (3 * 255);
    mean += pixels[i] / pixels.length;
  }
  // Dark ink on a light page: invert, so that every image has MNIST's bright strokes on black.
  if (mean > 0.5) for (let i = 0; i < pixels.length; i++) pixels[i] = 1 - pixels[i];
  return pixels;
}

/**
 * The user's own examples, from CSV files (a label column and `features` values per row) or
 * images named by their label, sized to the job's input (`features` = side x side pixels).
 */
export async function loadFiles(files: FileBytes[], options: { features: number; classes: number }): Promise<{ data: LocalData; summary: DataSummary }> {
  if (files.length === 0) throw new Error("no files given");
  const csv = files.filter((f) => f.name.toLowerCase().endsWith(".csv"));
  const images = files.filter((f) => !f.name.toLowerCase().endsWith(".csv"));
  if (csv.length > 0 && images.length > 0) throw new Error("give either CSV files or images, not both");
  let data: LocalData;
  if (csv.length > 0) {
    const decoder = new TextDecoder();
    data = parseCsvExamples(csv.map((f) => ({ name: f.name, text: decoder.decode(f.bytes) })), { numClasses: options.classes, features: options.features });
  } else {
    const side = Math.round(Math.sqrt(options.features));
    if (side * side !== options.features) throw new Error(`the job expects ${options.features} features, not a square image`);
    const x = new Float32Array(images.length * options.features);
    const y = new Float32Array(images.length * options.classes);
    for (let i = 0; i < images.length; i++) {
      y[i * options.classes + labelFromName(images[i].name, options.classes)] = 1;
      x.set(await imagePixels(images[i], side), i * options.features);
    }
    data = { x, y, count: images.length, featureShape: [options.features], numClasses: options.classes };
  }
  const kind = csv.length > 0 ? `${csv.length} CSV file${csv.length === 1 ? "" : "s"}` : `${images.length} image${images.length === 1 ? "" : "s"}`;
  return { data, summary: { source: "files", description: `your files: ${kind}, ${data.count} examples`, examples: data.count, features: options.features, classes: options.classes } };
}
