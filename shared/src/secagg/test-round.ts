import { addInto, quantize, type FixedPoint } from "./fixed-point.js";
import { SecAggDevice, unmaskSum, type Revealed } from "./masking.js";

/**
 * One whole round of secure aggregation in one process, for the tests in each runtime (Node, the
 * browser, workerd): the production device and control-plane steps, with the messages between
 * them passed by hand. Devices in `dropped` share their keys and then send nothing.
 */
export async function secAggRound(input: { inputs: Float32Array[]; threshold: number; dropped?: number[]; format: FixedPoint; context: string }) {
  const dropped = input.dropped ?? [];
  const devices = await Promise.all(input.inputs.map((_, i) => SecAggDevice.create(i + 1, input.context)));
  const roster = devices.map((d) => d.advertise());
  // Each device's shares, sealed for each peer, pass through the control plane: by recipient, by sender.
  const inbox = new Map<number, Map<number, Uint8Array>>(devices.map((d) => [d.index, new Map()]));
  for (const device of devices) for (const [to, sealed] of await device.shareKeys(roster, input.threshold)) inbox.get(to)!.set(device.index, sealed);
  const sharers = devices.map((d) => d.index);
  const masked = new Map<number, Uint32Array>();
  for (const device of devices) if (!dropped.includes(device.index)) masked.set(device.index, await device.maskedInput(quantize(input.inputs[device.index - 1], input.format), sharers));
  const senders = [...masked.keys()];
  const revealed: Revealed[] = [];
  for (const device of devices) if (senders.includes(device.index)) revealed.push(await device.unmask(inbox.get(device.index)!, senders, dropped));
  const maskedSum = new Uint32Array(input.inputs[0]?.length ?? 0);
  for (const y of masked.values()) addInto(maskedSum, y);
  const sum = await unmaskSum({ context: input.context, roster, senders, maskedSum, dropped, revealed, threshold: input.threshold });
  const plain = new Uint32Array(sum.length);
  for (const u of senders) addInto(plain, quantize(input.inputs[u - 1], input.format));
  return { sum, plain, masked, senders };
}
