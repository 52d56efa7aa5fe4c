import { PropiusError, keepsUpdates, parameterCount, type UpdateReceipt } from "@propius/shared";
import { robustFold, robustSeal } from "./robust-fold.js";
import type { Tickets } from "../auth/tickets.js";
import type { AggregatorStore } from "./aggregator-store.js";
import { decodeDeltaStream, foldDecoded } from "./delta-stream.js";
import { compareKeys, emptyPartial, type Admission, type Folded, type PartialKey, type PartialMeta, type SealedPartial } from "./partial-sum.js";
import type { Chunks, FoldRecord, JobDescription, JobPort, Upload } from "./shard-ports.js";
import type { Reply } from "../job/reply.js";
import { BodyReadAhead, type ArrivedBody } from "./body-read-ahead.js";

/** A group takes at most this many folds, ... */
const MAX_GROUP = 16;
/**
 * ... and waits for uploads on their way in at most 50 ms, or longer for a large sum: a write of the
 * sum costs about 2.5 ms per MiB (measured under `wrangler dev`), so a group waits at most about
 * two writes' time to save one (at 10M parameters, 40 MB bodies are read in the shard's turn, each
 * longer than 50 ms: with 50 ms, 29 groups for 50 uploads; with this, 15).
 */
const groupWaitMs = (sumValues: number) => Math.max(50, (6 * sumValues * 4) / 2 ** 20);

/** A fold waiting for its group's one write and one count at the job. */
interface Waiting {
  record: FoldRecord;
  resolve(receipt: UpdateReceipt): void;
  reject(error: unknown): void;
}

/**
 * One aggregator shard of a job, free of any platform import. An upload reaches it in one call
 * (`submit`): the shard checks the signed ticket by itself, receives the body (read whole ahead of
 * its turn while it fits the read-ahead budget, else piece by piece in its turn: see
 * BodyReadAhead), decodes it (nothing is added until the whole body has proved good, so a refused
 * upload leaves the sum bit for bit as it was), adds it to the partial sum in one pass, and
 * acknowledges it once the sum is durable and the job has counted it.
 *
 * Group commit: a group is written once no other upload is on its way in (being received or
 * waiting for its turn), or it is full, or it has waited long enough; the write stores the partial
 * sum once for all its folds and one call to the job counts them all. Decoding is one upload at a
 * time, so memory is the sum, one scratch buffer and the bodies read ahead (at most the budget).
 *
 * Accepted once: a ticket is folded at most once per key (a retried upload is reported to the job
 * as a repeat), and a fold either lands in the sum the job will seal or is refused. Sealing a key
 * the shard has not seen records it too, so no update can slip in after the job has taken the sums.
 */
export class AggregatorCore {
  /** The partial sum as stored plus the folds of the group not yet written. */
  private live: { meta: PartialMeta; sum: Float32Array; replaces: boolean } | null = null;
  private scratch: Float32Array | null = null;
  private described: JobDescription | null = null;
  /** The one request for the description, shared by the uploads that arrive before it is answered. */
  private describing: Promise<JobDescription> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: Waiting[] = [];
  private flushing: Promise<void> | null = null;
  /** Uploads between `submit` and joining a group: the group being formed waits for them. */
  private inFlight = 0;
  /** How many wait for the shard to be idle (a seal, a release, a newer key): the group is written as it is. */
  private urgent = 0;
  private wake: (() => void) | null = null;
  private readonly readAhead = new BodyReadAhead();
  /** The adaptive norm bound of the round attempt being folded, as the job gave it (one request per attempt). */
  private bound: { key: PartialKey; value: Promise<number> } | null = null;

  constructor(
    private readonly store: AggregatorStore,
    private readonly job: JobPort,
    private readonly tickets: Tickets,
  ) {}

  /** One upload into shard `shard`: checked, decoded as it arrives, folded, written with its group, counted. */
  async submit(upload: Upload, shard: number, now: number): Promise<UpdateReceipt> {
    const claims = this.tickets.verify(upload.ticket);
    // Learnt once; for a job that does not exist this is where `job_not_found` comes from.
    const job = claims && (this.described ?? (await this.describe(upload.jobId)));
    if (!claims || !job || claims.jobId !== upload.jobId || claims.clientId !== upload.clientId || claims.round !== upload.round || claims.shard !== shard) {
      throw new PropiusError("ticket_invalid", "this ticket was not issued to this client for this job and round");
    }
    const admission: Admission = job.buffered
      ? await this.job.admit(upload.jobId, upload)
      : { ticket: claims.id, key: { round: claims.round, attempt: claims.attempt }, shard, weighting: job.weighting, weightScale: 1, weightSpecs: job.weightSpecs };
    if (!job.buffered && now > claims.leaseUntil) throw new PropiusError("round_closed", `round ${claims.round} is closed; the update is stale`);
    if (this.store.isSpent(claims.id)) throw new PropiusError("ticket_used", "an upload with this ticket was refused; a refused upload spends its ticket");
    this.inFlight += 1;
    let body: ArrivedBody | null = null;
    try {
      const bound = await this.boundFor(job, admission.key);
      body = await this.readAhead.arrive(upload.body);
      const chunks = body.chunks;
      const { counted } = await this.turn(() => this.fold(admission, upload.clientId, chunks, job, bound));
      return counted;
    } finally {
      body?.release();
      this.inFlight -= 1;
      this.nudge();
    }
  }

  /**
   * Marks an upload's ticket spent after its body was refused (see `submitUpdate`): its replay is
   * `ticket_used` until the lease ends. Only a ticket signed for this device, job, round and shard.
   */
  spend(upload: Omit<Upload, "body">, shard: number, now: number): void {
    const claims = this.tickets.verify(upload.ticket);
    if (!claims || claims.jobId !== upload.jobId || claims.clientId !== upload.clientId || claims.round !== upload.round || claims.shard !== shard) {
      throw new PropiusError("ticket_invalid", "this ticket was not issued to this client for this job and round");
    }
    this.store.spend(claims.id, claims.leaseUntil, now);
  }

  /** Asks the job for its description once; a failed request is asked again by the next upload. */
  private describe(jobId: string): Promise<JobDescription> {
    this.describing ??= this.job.describe(jobId).then(
      (description) => (this.described = description),
      (error: unknown) => {
        this.describing = null;
        throw error;
      },
    );
    return this.describing;
  }

  /** The norm bound for `key`: the job's fixed one, the adaptive one the job holds for the attempt, or none. */
  private async boundFor(job: JobDescription, key: PartialKey): Promise<number | null> {
    const clipping = job.robustness.clipping;
    if (!clipping) return null;
    if (clipping.mode === "fixed") return clipping.norm;
    if (!this.bound || compareKeys(this.bound.key, key) !== 0) {
      const value = this.job.clipBound(job.jobId, key);
      this.bound = { key, value };
      value.catch(() => this.bound?.value === value && (this.bound = null)); // asked again by the next upload
    }
    return this.bound.value;
  }

  /** Inside the shard's turn: refuses a stale key, decodes and adds the body, and joins the next group (without waiting for it). */
  private async fold(admission: Admission, clientId: string, body: Chunks, job: JobDescription, bound: number | null): Promise<{ counted: Promise<UpdateReceipt> }> {
    if (this.waitingFor(admission.ticket)) await this.idle();
    const earlier = this.earlierIn(this.current(), admission);
    const record = (folded: Folded, repeat: boolean): FoldRecord => ({ clientId, key: admission.key, folded, repeat });
    if (earlier) return this.enqueue(record(earlier, true));
    const n = parameterCount(admission.weightSpecs);
    if (!this.scratch || this.scratch.length !== n) this.scratch = new Float32Array(n);
    const delta = await decodeDeltaStream(admission.weightSpecs, body, this.scratch);
    const live = await this.liveFor(admission.key, n);
    // The claim capped, the delta clipped to the bound in place, and kept apart when the estimator needs it.
    const { examples, belowBound } = robustFold(this.store, job.robustness, admission.ticket, delta, bound);
    const weight = (admission.weighting === "uniform" ? 1 : examples) * admission.weightScale;
    // Into the scratch buffer, which then swaps with the sum: a refusal here leaves the sum as it was.
    const next = foldDecoded(live.sum, delta, weight, this.scratch);
    if (next !== live.sum) [this.scratch, live.sum] = [live.sum, next];
    const below = (live.meta.belowBound ?? 0) + (belowBound ? 1 : 0);
    const kept = keepsUpdates(job.robustness.estimator) ? { estimator: job.robustness.estimator } : {};
    live.meta = { ...live.meta, weight: live.meta.weight + weight, examples: live.meta.examples + examples, count: live.meta.count + 1, belowBound: below, ...kept };
    return this.enqueue(record({ ticket: admission.ticket, examples, trainLoss: delta.trainLoss ?? null, bytesIn: delta.bytesIn, bytesDown: delta.bytesDown }, false));
  }

  /**
   * A secure group's sum (the shard never saw one of its updates): added to the partial sum of
   * `key` as one fold of its senders, written with the next group and counted at the job. One
   * answer per sender, in order. `examples` is the group's total, split evenly among its senders
   * (the shard knows the total only).
   */
  async foldGroup(jobId: string, key: PartialKey, group: { sum: Float32Array; weight: number; examples: number; bytesIn: number; senders: { clientId: string; ticket: string }[] }): Promise<Reply<UpdateReceipt>[]> {
    if (!this.described) await this.describe(jobId);
    const { counted } = await this.turn(async () => {
      const current = this.current();
      if (current && (compareKeys(key, current) < 0 || (compareKeys(key, current) === 0 && current.sealed))) {
        throw new PropiusError("round_closed", `round ${key.round} is closed; the group's sum is stale`);
      }
      const live = await this.liveFor(key, group.sum.length);
      if (!this.scratch || this.scratch.length !== group.sum.length) this.scratch = new Float32Array(group.sum.length);
      const next = foldDecoded(live.sum, { values: group.sum, bytesIn: group.bytesIn, examples: 0, trainLoss: undefined, bytesDown: 0 }, 1, this.scratch);
      if (next !== live.sum) [this.scratch, live.sum] = [live.sum, next];
      const k = group.senders.length;
      live.meta = { ...live.meta, weight: live.meta.weight + group.weight, examples: live.meta.examples + group.examples, count: live.meta.count + k };
      const share = (i: number, total: number) => Math.floor(total / k) + (i < total % k ? 1 : 0);
      return {
        counted: group.senders.map((s, i) =>
          this.enqueue({ clientId: s.clientId, key, folded: { ticket: s.ticket, examples: share(i, group.examples), trainLoss: null, bytesIn: share(i, group.bytesIn), bytesDown: 0 }, repeat: false }).counted,
        ),
      };
    });
    return Promise.all(counted.map((p) => p.then((value): Reply<UpdateReceipt> => ({ ok: true, value }), (error: unknown): Reply<UpdateReceipt> => (error instanceof PropiusError ? { ok: false, ...error.toBody() } : { ok: false, error: { code: "internal", message: "the group's sum was not counted" } }))));
  }

  /** Joins the next group; the answer comes once the group is written and counted. */
  private enqueue(record: FoldRecord): { counted: Promise<UpdateReceipt> } {
    const counted = new Promise<UpdateReceipt>((resolve, reject) => this.waiting.push({ record, resolve, reject }));
    counted.catch(() => undefined); // the caller awaits it as soon as its turn ends; no unhandled rejection meanwhile
    this.startFlush();
    // Wrapped so that the turn ends now and does not wait for the count (a bare promise would be adopted).
    return { counted };
  }

  /** Starts writing the waiting folds unless a flush is under way (and again should folds join as one ends). */
  private startFlush(): void {
    this.flushing ??= this.flush().finally(() => {
      this.flushing = null;
      if (this.waiting.length > 0) this.startFlush();
    });
  }

  /**
   * Writes and counts the waiting folds, a group at a time, until none wait. A group is written
   * once no other upload is on its way into the shard (or it is full, or has waited long enough),
   * so that devices uploading at once share one write of the sum and one call to the job.
   */
  private async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      const until = Date.now() + groupWaitMs(this.live?.sum.length ?? 0);
      while (this.inFlight > 0 && this.urgent === 0 && this.waiting.length < MAX_GROUP && Date.now() < until) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(1, until - Date.now()));
          this.wake = () => (clearTimeout(timer), resolve());
        });
      }
      const group = this.waiting.splice(0);
      const fresh = group.filter((w) => !w.record.repeat).map((w) => w.record.folded);
      try {
        if (fresh.length > 0) this.write(fresh);
      } catch (error) {
        // The sum in memory holds folds that were not written: read the stored one next time.
        this.live = null;
        for (const w of group) w.reject(error);
        continue;
      }
      try {
        const { answers, closed } = await this.job.commitFolds(this.described!.jobId, group.map((w) => w.record));
        if (closed) this.sealLive(group[0].record.key);
        group.forEach((w, i) => {
          const answer = answers[i];
          if (answer.ok) w.resolve(answer.value);
          else w.reject(new PropiusError(answer.error.code, answer.error.message, answer.error.details));
        });
      } catch (error) {
        // Written but not counted: the job counts them when it reads the shard at its deadline or seal.
        for (const w of group) w.reject(error);
      }
    }
  }

  /**
   * The job says the attempt `key` takes no more updates: the shard refuses the next ones at once,
   * as its seal would. Folds already added to the live sum (the next group's) are still written
   * and counted; the mark is stored with the next write, or now if none is waiting.
   */
  private sealLive(key: PartialKey): void {
    if (!this.live || compareKeys(this.live.meta, key) !== 0 || this.live.meta.sealed) return;
    this.live.meta = { ...this.live.meta, sealed: true };
    const stored = this.store.loadPartial();
    if (this.waiting.length === 0 && stored && compareKeys(stored, key) === 0) this.store.savePartial({ ...stored, sealed: true });
  }

  /** One write of the partial sum, with the group's fold records. */
  private write(folded: Folded[]): void {
    const live = this.live!;
    this.store.transaction(() => {
      if (live.replaces) this.store.clear();
      this.store.savePartial(live.meta, live.sum);
      for (const f of folded) this.store.saveFolded(f);
    });
    live.replaces = false;
  }

  /** The live partial sum for `key`: the stored one, or a new one (replacing an older key's) when this is its first fold. */
  private async liveFor(key: PartialKey, length: number): Promise<{ meta: PartialMeta; sum: Float32Array; replaces: boolean }> {
    const current = this.current();
    if (current && compareKeys(current, key) === 0) {
      if (!this.live || compareKeys(this.live.meta, key) !== 0) this.live = { meta: current, sum: this.store.loadSum(current.length), replaces: false };
      return this.live;
    }
    // A newer key: the older one was sealed or discarded by the job. Its last group is written first.
    await this.idle();
    this.store.clearUpdates();
    this.live = { meta: emptyPartial(key, length), sum: new Float32Array(length), replaces: true };
    return this.live;
  }

  /** The partial this shard holds: the live one, else the stored one. */
  private current(): PartialMeta | null {
    return this.live?.meta ?? this.store.loadPartial();
  }

  /**
   * Seals the key and returns its partial (empty if no update reached this shard): later updates
   * for it are refused as stale. Sealing again returns the same partial. Waits for the folds in
   * progress to be written and counted first.
   */
  seal(key: PartialKey): Promise<SealedPartial> {
    return this.turn(async () => {
      await this.idle();
      const current = this.store.loadPartial();
      if (current && compareKeys(current, key) > 0) throw new PropiusError("conflict", `round ${key.round} attempt ${key.attempt} was superseded here`);
      if (current && compareKeys(current, key) === 0) {
        const folded = this.store.listFolded();
        // An estimator that keeps updates replaces the sum by its estimate, once, in the seal's one write.
        const robust = robustSeal(this.store, current, folded);
        if (robust) {
          this.store.transaction(() => this.store.savePartial({ ...robust.meta, sealed: true }, robust.sum));
          this.live = null;
          return { meta: { ...robust.meta, sealed: true }, folded };
        }
        if (!current.sealed) this.store.savePartial({ ...current, sealed: true });
        if (this.live && compareKeys(this.live.meta, key) === 0) this.live.meta = { ...this.live.meta, sealed: true };
        return { meta: { ...current, sealed: true }, folded };
      }
      const meta = { ...emptyPartial(key, 0), sealed: true };
      this.store.transaction(() => (this.store.clear(), this.store.clearUpdates(), this.store.savePartial(meta, new Float32Array(0))));
      this.live = null;
      return { meta, folded: [] };
    });
  }

  /** The updates folded (and written) into the partial sum of `key` so far (none if this shard holds another). */
  folded(key: PartialKey): Folded[] {
    const current = this.store.loadPartial();
    return current && compareKeys(current, key) === 0 ? this.store.listFolded() : [];
  }

  /** The sealed sum's bytes (float32, little-endian), in chunks. */
  sumChunks(key: PartialKey): Iterable<Uint8Array> {
    const current = this.store.loadPartial();
    if (!current || compareKeys(current, key) !== 0 || !current.sealed) throw new PropiusError("conflict", `round ${key.round} attempt ${key.attempt} is not sealed here`);
    if (this.live && compareKeys(this.live.meta, key) === 0) return byteChunks(this.live.sum);
    return this.store.sumChunks();
  }

  /** Drops the partial sum of `key` (or an earlier one) once the job has stored the model it produced. */
  release(key: PartialKey): Promise<void> {
    return this.turn(async () => {
      await this.idle();
      const current = this.store.loadPartial();
      if (!current || compareKeys(current, key) > 0) return;
      // The sum goes; the key stays, sealed, so that a late upload for it is refused as stale rather than folded anew.
      this.store.transaction(() => (this.store.clear(), this.store.clearUpdates(), this.store.savePartial({ ...emptyPartial(current, 0), sealed: true }, new Float32Array(0))));
      this.live = null;
    });
  }

  /** Refuses a sealed or superseded key; returns the ticket's earlier fold into `current`, if any. */
  private earlierIn(current: PartialMeta | null, admission: Admission): Folded | null {
    if (!current) return null;
    const order = compareKeys(admission.key, current);
    if (order < 0 || (order === 0 && current.sealed)) {
      throw new PropiusError("round_closed", `round ${admission.key.round} is closed; the update is stale`);
    }
    return order === 0 ? this.store.loadFolded(admission.ticket) : null;
  }

  private waitingFor(ticket: string): boolean {
    return this.waiting.some((w) => w.record.folded.ticket === ticket);
  }

  /** Resolves once no group is waiting or being written (the one being formed is written at once). */
  private async idle(): Promise<void> {
    this.urgent += 1;
    this.nudge();
    try {
      while (this.flushing) await this.flushing;
    } finally {
      this.urgent -= 1;
    }
  }

  /** Wakes the group being formed to look again at what is in flight. */
  private nudge(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Runs `fn` after the shard's earlier turns (decodes, seals, releases): one at a time. */
  private turn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** A Float32Array's bytes in 1 MiB views (no copy). */
function* byteChunks(values: Float32Array): Iterable<Uint8Array> {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  for (let offset = 0; offset < bytes.length; offset += 1 << 20) yield bytes.subarray(offset, offset + (1 << 20));
}
