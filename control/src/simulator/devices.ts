import type { DeviceView } from "../scheduling/policies/index.js";
import { logNormal, randomInt, seededRandom } from "./random.js";

/** A phone model of ../shared/data/device-specs.json. */
export interface DeviceSpecRecord {
  id: number;
  device?: string;
  cpu_f: number;
  ram_gb: number;
  fp16_mem: number;
  android_os: number;
  /** Per-inference latency (ms): the relative compute-time factor. */
  inference_latency: number;
}

/** A client's sample count of ../shared/data/client-dataset-sizes.json. */
export interface DatasetSizeRecord {
  id: number;
  samples: number;
}

export interface DeviceModel {
  /** Devices alternate online and offline periods, exponentially distributed with these means. */
  meanOnlineS: number;
  meanOfflineS: number;
  /** Link rate (both directions) per device: log-normal with this median and sigma (of its log). */
  medianKbps: number;
  bandwidthSigma: number;
}

/**
 * One online period of an hour every eight on average (12.5 % of devices online at a time): devices
 * serve collaborative learning only while idle, charging and on an unmetered network. Links: a
 * median of 10 Mbit/s, a tenth to nine tenths between 3.6 and 28 Mbit/s.
 */
export const DEFAULT_DEVICE_MODEL: DeviceModel = { meanOnlineS: 3600, meanOfflineS: 7 * 3600, medianKbps: 10_000, bandwidthSigma: 0.8 };

export interface SimDevice {
  index: number;
  view: DeviceView;
  /** Private attributes, checked on the device only. */
  privateAttributes: Record<string, number>;
  kbps: number;
  /** The raw spec, for the independent invariant check. */
  spec: DeviceSpecRecord;
}

/**
 * N devices drawn with replacement from the phone models and the dataset sizes (seeded). Public
 * attributes are the model's cpu_f, ram_gb, fp16_mem and android_os; the speed factor is its
 * inference latency; the private attribute is dataset_size.
 */
export function sampleDevices(n: number, specs: readonly DeviceSpecRecord[], sizes: readonly DatasetSizeRecord[], model: DeviceModel, seed: number): SimDevice[] {
  if (specs.length === 0 || sizes.length === 0) throw new Error("need at least one device spec and one dataset size");
  const random = seededRandom(seed, 0x5eed);
  const width = String(n - 1).length;
  return Array.from({ length: n }, (_, index) => {
    const spec = specs[randomInt(random, specs.length)];
    const samples = sizes[randomInt(random, sizes.length)].samples;
    return {
      index,
      view: {
        id: `device-${String(index).padStart(width, "0")}`,
        attributes: { cpu_f: spec.cpu_f, ram_gb: spec.ram_gb, fp16_mem: spec.fp16_mem, android_os: spec.android_os },
        speed: spec.inference_latency,
      },
      privateAttributes: { dataset_size: samples },
      kbps: logNormal(random, model.medianKbps, model.bandwidthSigma),
      spec,
    };
  });
}

/**
 * Training time of a task, as the Propius evaluation models it: forward and backward passes take
 * three inference latencies per sample, plus 3 s of set-up.
 */
export const SECONDS_PER_SAMPLE_PER_MS = 3 / 1000;
export const TASK_SETUP_S = 3;

export function trainSeconds(device: SimDevice, samplesPerTask: number): number {
  return SECONDS_PER_SAMPLE_PER_MS * samplesPerTask * device.view.speed + TASK_SETUP_S;
}

/** A whole task: download the model, train, upload the update (the size of the model). */
export function taskSeconds(device: SimDevice, samplesPerTask: number, modelKbit: number): number {
  return (2 * modelKbit) / device.kbps + trainSeconds(device, samplesPerTask);
}
