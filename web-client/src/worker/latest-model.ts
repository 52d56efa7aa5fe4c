import { createOnnxSession, evaluateOnnx, exportOnnx, predictOnnx, type OnnxSession } from "@propius/edge-runtime/onnx";
import { labelIndices, type LocalData } from "@propius/edge-runtime/training";
import type { ModelDefinition } from "@propius/shared";
import type { ModelEvaluation, Prediction } from "../contract.js";

interface Version {
  jobId: string;
  round: number;
  model: ModelDefinition;
  weights: Float32Array;
}

/**
 * The newest global model this tab has seen (the version it last trained from), exported to ONNX
 * and run with ONNX Runtime Web in the worker: predictions for the drawing pad, and evaluation
 * on held-out digits that stay in the tab.
 */
export class LatestModel {
  private version: Version | undefined;
  private session: { key: string; onnx: Promise<OnnxSession> } | undefined;

  /** Keeps the model a task started from; the next prediction or evaluation uses it. */
  remember(version: Version): void {
    if (this.version && this.version.jobId === version.jobId && this.version.round > version.round) return;
    // The weights are the device client's cached copy of the model, which nothing writes to.
    this.version = version;
  }

  private open(): { version: Version; onnx: Promise<OnnxSession> } {
    const version = this.version;
    if (!version) throw new Error("no model yet: the tab has not trained for a job");
    const key = `${version.jobId}/${version.round}`;
    if (this.session?.key !== key) {
      const previous = this.session?.onnx;
      const onnx = createOnnxSession(exportOnnx(version.model, version.weights));
      this.session = { key, onnx };
      onnx.catch(() => this.session?.onnx === onnx && (this.session = undefined));
      void previous?.then((s) => s.release()).catch(() => undefined);
    }
    return { version, onnx: this.session!.onnx };
  }

  /** Class probabilities for one example laid out as the model's input. */
  async predict(input: Float32Array): Promise<Prediction> {
    const { version, onnx } = this.open();
    const probabilities = await predictOnnx(await onnx, input);
    return { jobId: version.jobId, round: version.round, probabilities: [...probabilities] };
  }

  /** Accuracy and loss of the model on labelled examples (the demo's held-out digits). */
  async evaluate(test: LocalData): Promise<ModelEvaluation> {
    const { version, onnx } = this.open();
    const session = await onnx;
    const inputs = session.sampleShape.reduce((n, d) => n * d, 1);
    if (inputs !== test.featureShape[0]) throw new Error(`the model takes ${inputs} inputs; the held-out examples have ${test.featureShape[0]}`);
    const result = await evaluateOnnx(session, test.x, labelIndices(test), test.count);
    return { jobId: version.jobId, round: version.round, ...result };
  }
}
