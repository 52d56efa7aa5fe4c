import type { WeightedSum } from "../fedavg.js";
import type { StrategyName } from "./config.js";

/**
 * The contract of an aggregation strategy, after Flower's: `configureTrain` says what a client gets
 * with its task, and the server side either aggregates a closed round (`RoundStrategy`) or applies a
 * buffer of updates every K of them (`BufferedStrategy`, no rounds).
 *
 * Conventions shared by every strategy:
 * - A client's delta is its trained weights minus the weights it started from, so the mean delta
 *   points downhill; it is the negative of Reddi et al.'s pseudo-gradient, and strategies add it.
 * - Server state is plain data (numbers and Float32Arrays, tagged with the strategy's name) that
 *   survives structured clone and can be stored between rounds. Strategies never keep state of
 *   their own: what they need comes in as an argument and goes out in the result.
 * - The inputs of `aggregateTrain` and `apply` are not modified; the next model and state are new.
 */

/** A round's running weighted sum of deltas, as `WeightedSum` keeps it (and the job stores it). */
export type RoundAggregate = Pick<WeightedSum, "sum" | "weight" | "count">;

/** What a strategy adds to a client's task for a round; empty for most strategies. */
export interface ClientTrainConfig {
  /** FedProx: the proximal term's coefficient mu, for local training (`trainLocal`'s `proximalMu`). */
  proximalMu?: number;
}

/** The next global model and the server state to keep for the next step. */
export interface StepResult<S> {
  next: Float32Array;
  state: S;
}

interface StrategyBase<C, S> {
  readonly name: StrategyName;
  /** The validated configuration, defaults filled in. */
  readonly config: C;
  /** The client configuration for round `round` (from 1; FedBuff has no rounds and takes the server step). */
  configureTrain(round: number): ClientTrainConfig;
  /** Fresh server state for a model of `size` values. */
  initialState(size: number): S;
}

/** A strategy that aggregates synchronous rounds. */
export interface RoundStrategy<C = unknown, S = unknown> extends StrategyBase<C, S> {
  readonly mode: "rounds";
  /** The next model from the current one and a closed round's weighted sum of deltas. */
  aggregateTrain(global: Float32Array, aggregate: RoundAggregate, state: S): StepResult<S>;
}

/** One client's update, for a buffered strategy. */
export interface BufferedUpdate {
  delta: Float32Array;
  /** The client's example count, its weight before staleness discounting. */
  examples: number;
  /** Server steps applied since the model the client trained from (0: it trained on the current one). */
  staleness: number;
}

/** A strategy that applies a buffer of asynchronous updates every K of them. */
export interface BufferedStrategy<C = unknown, S = unknown> extends StrategyBase<C, S> {
  readonly mode: "buffered";
  /** Adds one update to the buffer, in place (like `WeightedSum.add`), and returns the same state. */
  add(state: S, update: BufferedUpdate): S;
  /** Whether the buffer holds K updates and should be applied. */
  isReady(state: S): boolean;
  /** Applies the buffered updates (K of them, or fewer to flush) and returns an emptied buffer. */
  apply(global: Float32Array, state: S): StepResult<S>;
}

/** Throws unless `actual` has `expected` values. */
export function checkSize(what: string, actual: Float32Array, expected: number): void {
  if (actual.length !== expected) throw new RangeError(`${what} has ${actual.length} values, expected ${expected}`);
}

/** Throws unless `state` belongs to the strategy `name`. */
export function checkState(name: StrategyName, state: { strategy: string }): void {
  if (state?.strategy !== name) throw new TypeError(`state of strategy '${String(state?.strategy)}' given to ${name}`);
}

/** The weighted mean delta of a round, checked against the model's size. */
export function meanDelta(aggregate: RoundAggregate, size: number): Float32Array {
  checkSize("aggregate", aggregate.sum, size);
  if (!(aggregate.weight > 0) || !Number.isFinite(aggregate.weight)) throw new RangeError("the round has no updates to aggregate");
  const out = new Float32Array(size);
  const inv = 1 / aggregate.weight;
  for (let i = 0; i < size; i++) out[i] = aggregate.sum[i] * inv;
  return out;
}
