import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parameterCount, type LayersModelJson, type ModelDefinition, type TensorSpec } from "@propius/shared";
import { CliError } from "./cli-error.js";

/**
 * tfjs model folders, as `model.save("file://...")` writes them and `tf.loadLayersModel` reads
 * them: a model.json (its `modelTopology` and a `weightsManifest` of groups, each naming its
 * weight files and tensors) beside the weight files, little-endian float32 in manifest order.
 */

interface ManifestGroup {
  paths: string[];
  weights: (TensorSpec & { quantization?: unknown })[];
}

/** Reads a model folder as a job's model and its weights, which become the job's initial model. */
export async function readModelFolder(dir: string): Promise<{ model: ModelDefinition; weights: Float32Array }> {
  const path = join(dir, "model.json");
  let json: { modelTopology?: unknown; weightsManifest?: ManifestGroup[] };
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new CliError(`cannot read the model folder's ${path}: ${(error as Error).message}`);
  }
  if (typeof json.modelTopology !== "object" || json.modelTopology === null) throw new CliError(`${path} has no modelTopology: a layers model's model.json has one`);
  if (!Array.isArray(json.weightsManifest)) throw new CliError(`${path} has no weightsManifest`);
  const weightSpecs: TensorSpec[] = [];
  const files: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const spec of group.weights) {
      if (spec.dtype !== "float32" || spec.quantization !== undefined) throw new CliError(`${path}: weight '${spec.name}' is ${spec.quantization ? "quantized" : spec.dtype}; only float32 weights can seed a job`);
      weightSpecs.push({ name: spec.name, shape: spec.shape, dtype: "float32" });
    }
    for (const file of group.paths) {
      // tfjs resolves a path against model.json's folder; a query, as in a served model.json, is not part of the file's name.
      const name = file.split("?")[0];
      files.push(await readFile(join(dir, name)).catch((error: Error) => Promise.reject(new CliError(`cannot read ${join(dir, name)}, a weights file ${path} names: ${error.message}`))));
    }
  }
  const bytes = Buffer.concat(files);
  const expected = parameterCount(weightSpecs) * 4;
  if (bytes.byteLength !== expected) throw new CliError(`the weights files of ${dir} hold ${bytes.byteLength} bytes, but its weightsManifest describes ${expected} (${expected / 4} float32 values)`);
  const weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { model: { format: "tfjs-layers", topology: json.modelTopology as Record<string, unknown>, weightSpecs }, weights };
}

/** Reads raw little-endian float32 initial weights, checked against the model's size. */
export async function readWeightsFile(path: string, weightSpecs: TensorSpec[]): Promise<Float32Array> {
  const bytes = await readFile(path).catch((error: Error) => Promise.reject(new CliError(`cannot read the weights file ${path}: ${error.message}`)));
  const expected = parameterCount(weightSpecs) * 4;
  if (bytes.byteLength !== expected) {
    throw new CliError(`${path} holds ${bytes.byteLength} bytes, but the model's weightSpecs take ${expected} (${expected / 4} float32 values, raw little-endian, in weightSpecs order)`);
  }
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Writes a model version as a tfjs folder: `model.json` (one weights file, `weights.bin`) and `weights.bin`. */
export async function writeModelFolder(dir: string, modelJson: LayersModelJson, weights: Float32Array): Promise<{ modelJson: string; weights: string }> {
  await mkdir(dir, { recursive: true });
  const files = { modelJson: join(dir, "model.json"), weights: join(dir, "weights.bin") };
  // The weights first, and each file by a rename: a model.json never names weights that are not yet whole.
  await writeFile(`${files.weights}.tmp`, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength));
  await rename(`${files.weights}.tmp`, files.weights);
  await writeFile(`${files.modelJson}.tmp`, `${JSON.stringify(modelJson, null, 2)}\n`);
  await rename(`${files.modelJson}.tmp`, files.modelJson);
  return files;
}
