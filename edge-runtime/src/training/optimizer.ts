import * as tf from "./tf.js";
import { optimizerConfig, type OptimizerConfig, type OptimizerInput } from "@propius/shared";

/**
 * The tfjs optimizer a plan asks for, new for every task: its state (momentum buffers, Adam's
 * moments and step count) starts at zero and is dropped with the task (see shared/optimizer.ts).
 */
export function makeOptimizer(optimizer: OptimizerInput | OptimizerConfig, learningRate: number): tf.Optimizer {
  const config = optimizerConfig(optimizer);
  switch (config.name) {
    case "sgd":
      return tf.train.sgd(learningRate);
    case "momentum":
      return tf.train.momentum(learningRate, config.momentum, config.nesterov);
    case "adam":
      return tf.train.adam(learningRate, config.beta1, config.beta2, config.epsilon);
  }
}
