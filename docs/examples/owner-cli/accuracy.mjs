// Loads a model folder that `propius jobs download` wrote (model.json and weights.bin) with
// tfjs-layers, as tf.loadLayersModel loads any layers model, and prints its accuracy on the rows
// of a CSV file (label,feature1,feature2,...; a header line is skipped).
//   node docs/examples/owner-cli/accuracy.mjs <model folder> <file.csv>
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { loadLayersModel } from "@tensorflow/tfjs-layers";

const [folder, csv] = process.argv.slice(2);
if (!folder || !csv) {
  process.stderr.write("usage: accuracy.mjs <model folder> <file.csv>\n");
  process.exit(2);
}
await tf.setBackend("cpu");
const modelJson = JSON.parse(readFileSync(join(folder, "model.json"), "utf8"));
// What tfjs-node's file:// handler does: the topology, the manifest's tensors and their bytes.
const bytes = Buffer.concat(modelJson.weightsManifest.flatMap((group) => group.paths.map((path) => readFileSync(join(folder, path)))));
const model = await loadLayersModel({
  load: async () => ({
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  }),
});

const rows = readFileSync(csv, "utf8").trim().split("\n").filter((line) => !/[a-z]/i.test(line)).map((line) => line.split(",").map(Number));
const predicted = tf.tidy(() => tf.argMax(model.predict(tf.tensor2d(rows.map((row) => row.slice(1)))), 1).dataSync());
const right = rows.filter((row, i) => row[0] === predicted[i]).length;
console.log(`model v${modelJson.propius.version}: accuracy ${(right / rows.length).toFixed(4)} on the ${rows.length} rows of ${csv}`);
