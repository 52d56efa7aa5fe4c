import { describeInputFormat, inputSize, type InputFormat } from "@propius/shared";
import { isCsvHeader, parseCsvExamples, type LocalData } from "@propius/edge-runtime/training";
import type { DataSummary, FileBytes } from "../contract.js";

const isCsv = (file: FileBytes) => file.name.toLowerCase().endsWith(".csv");
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * An image's class from the start of its name: a class index (`7.png`, `7_003.png`, `7-a.png`) or,
 * when the job names its classes, a class name (`cat_001.png`).
 */
export function labelFromName(name: string, classes: number, labels?: readonly string[]): number {
  const prefix = /^([^_\-. ]+)(?:[_\-. ]|$)/.exec(name.split("/").pop()!)?.[1] ?? "";
  const named = labels?.indexOf(prefix) ?? -1;
  const label = named >= 0 ? named : /^\d+$/.test(prefix) ? Number(prefix) : NaN;
  if (!(label < classes)) {
    const names = labels ? ` or a class name (${labels.join(", ")})` : "";
    throw new Error(`${name}: an image's name must start with its label (0..${classes - 1})${names}, e.g. '${labels?.[0] ?? 7 % classes}_001.png'`);
  }
  return label;
}

/** Checks a file set and counts its examples (rows or images), before any job says their format. */
export function summariseFiles(files: readonly FileBytes[]): DataSummary {
  if (files.length === 0) throw new Error("no files given");
  const csv = files.filter(isCsv);
  if (csv.length > 0 && csv.length < files.length) throw new Error("give either CSV files or images, not both");
  let examples = files.length;
  if (csv.length > 0) {
    const decoder = new TextDecoder();
    const rows = (f: FileBytes) => decoder.decode(f.bytes).split(/\r?\n/).filter((line, i) => line.trim() && !(i === 0 && isCsvHeader(line)));
    examples = csv.reduce((n, f) => n + rows(f).length, 0);
    if (examples === 0) throw new Error(`the CSV files (${csv.map((f) => f.name).join(", ")}) hold no examples`);
  }
  const kind = csv.length > 0 ? plural(csv.length, "CSV file") : plural(files.length, "image");
  return { source: "files", description: `your files: ${kind}, ${plural(examples, "example")}`, examples };
}

/** Decodes an image and scales it to width x height grey levels in [0, 1] (ink bright, as in MNIST). */
async function imagePixels(file: FileBytes, width: number, height: number): Promise<Float32Array> {
  const bitmap = await createImageBitmap(new Blob([file.bytes], { type: file.type || "image/png" })).catch(() => {
    throw new Error(`${file.name}: not an image this browser can decode`);
  });
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d")!;
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const { data } = context.getImageData(0, 0, width, height);
  const pixels = new Float32Array(width * height);
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
 * The user's files as examples of one job's input format: CSV rows with the format's values per
 * row (a tabular job's rows need its label column), or images named by their class and scaled to
 * the format's width x height. Throws, saying why, when the files cannot give that format.
 */
export async function examplesOf(files: readonly FileBytes[], format: InputFormat): Promise<{ data: LocalData; description: string }> {
  const size = inputSize(format);
  const described = (data: LocalData, from: string) => ({ data, description: `${describeInputFormat(format)}: ${data.count} examples from ${from}` });
  if (files.every(isCsv)) {
    const decoder = new TextDecoder();
    const texts = files.map((f) => ({ name: f.name, text: decoder.decode(f.bytes) }));
    const labelColumn = format.kind === "tabular" ? { labelColumn: format.labelColumn } : {};
    return described(parseCsvExamples(texts, { numClasses: format.classes, features: size, ...labelColumn }), plural(files.length, "CSV file"));
  }
  const count = summariseFiles(files).examples; // images: refuses a set mixed with CSV files
  if (format.kind !== "image") throw new Error(`the job takes rows of ${format.features} features, not images: give CSV files`);
  const x = new Float32Array(count * size);
  const y = new Float32Array(count * format.classes);
  for (let i = 0; i < count; i++) {
    y[i * format.classes + labelFromName(files[i].name, format.classes, format.labels)] = 1;
    x.set(await imagePixels(files[i], format.width, format.height), i * size);
  }
  return described({ x, y, count, featureShape: [size], numClasses: format.classes }, `${plural(count, "image")} scaled to ${format.width} x ${format.height}`);
}
