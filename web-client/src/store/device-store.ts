import type { Credentials } from "@propius/edge-runtime";

/** One accepted (or refused) update, as the page's history lists it. */
export interface Contribution {
  at: number;
  jobId: string;
  round: number;
  status: "accepted" | string;
  examples: number;
  trainLoss: number;
  bytesUp: number;
  bytesDown: number;
  backend: string;
}

export interface DeviceState {
  credentials: Credentials | null;
  /** Whether the tab was contributing when it was last open: a reload resumes. */
  contributing: boolean;
  /** A per-device seed that picks the demo shard when the URL does not. */
  shardSeed: number;
  history: Contribution[];
  totals: { bytesUp: number; bytesDown: number };
}

const HISTORY_LIMIT = 200;

/**
 * The tab's device identity, credentials and history in localStorage, one entry per control
 * plane, so that a reload resumes as the same device with its history.
 */
export class DeviceStore {
  private readonly key: string;
  state: DeviceState;

  constructor(controlPlane: string, private readonly storage: Storage = localStorage) {
    this.key = `propius-device:${controlPlane}`;
    this.state = this.read();
  }

  private read(): DeviceState {
    const fresh: DeviceState = { credentials: null, contributing: false, shardSeed: Math.floor(Math.random() * 2 ** 31), history: [], totals: { bytesUp: 0, bytesDown: 0 } };
    try {
      const stored = JSON.parse(this.storage.getItem(this.key) ?? "null") as Partial<DeviceState> | null;
      return stored ? { ...fresh, ...stored } : fresh;
    } catch {
      return fresh; // unreadable: start as a new device
    }
  }

  update(change: (state: DeviceState) => void): void {
    change(this.state);
    this.state.history = this.state.history.slice(-HISTORY_LIMIT);
    this.storage.setItem(this.key, JSON.stringify(this.state));
  }
}
