/** The demo's classifiers by name (kept apart from demo-job.ts, which loads tfjs). */
export const DEMO_MODELS = ["mlp", "cnn"] as const;
export type DemoModelName = (typeof DEMO_MODELS)[number];
