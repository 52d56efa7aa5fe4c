// Writes a job's initial weights, as `PUT /v1/jobs/:id/model` takes them raw
// (application/octet-stream): every tensor of the spec's `model.weightSpecs`, in order, as
// little-endian float32. Kernels are drawn uniformly from +-sqrt(6 / (fan-in + fan-out)) (Glorot's
// bound, fan-in being all but the last dimension), biases start at 0; seeded, so that a run gives
// the same file every time. All-zero kernels would not do: a ReLU layer fed by zeros passes no
// gradient back, and the model would never learn.
//   node docs/examples/initial-weights.mjs <spec.json> > weights.bin
import { readFileSync } from "node:fs";

const [path, seedArg = "1"] = process.argv.slice(2);
if (!path) {
  process.stderr.write("usage: initial-weights.mjs <spec.json> [seed] > weights.bin\n");
  process.exit(2);
}
const { weightSpecs } = JSON.parse(readFileSync(path, "utf8")).model;
let seed = Number(seedArg);
/** Park and Miller's minimal standard generator: enough for starting weights, and the same everywhere. */
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

const tensors = weightSpecs.map(({ shape }) => {
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length < 2) return new Float32Array(size);
  const fanOut = shape[shape.length - 1];
  const limit = Math.sqrt(6 / (size / fanOut + fanOut));
  return Float32Array.from({ length: size }, () => (2 * random() - 1) * limit);
});
const bytes = Buffer.alloc(tensors.reduce((n, t) => n + t.length * 4, 0));
let offset = 0;
for (const tensor of tensors) for (const value of tensor) offset = bytes.writeFloatLE(value, offset);
process.stdout.write(bytes);
