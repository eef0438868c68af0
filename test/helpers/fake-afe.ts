import type { FetState } from "../../src/core/fets.js";
import type { AfeCapabilities, AfeDriver, HardwareLimits, Sample } from "../../src/hal/afe.js";
import type { ManualClock } from "../../src/time/clock.js";

/**
 * A scripted AfeDriver for loop/orchestration tests only (drivers themselves are tested
 * against register-level emulators). Each read may advance the manual clock to model
 * the time a real bus transaction takes.
 */
export class FakeAfe implements AfeDriver {
  readonly capabilities: AfeCapabilities;
  readonly calls: {
    fets: FetState[];
    balancing: (readonly number[])[];
    cleared: string[][];
    closed: boolean;
    configured: HardwareLimits[];
  } = {
    fets: [],
    balancing: [],
    cleared: [],
    closed: false,
    configured: [],
  };
  readTimes: number[] = [];
  cellsMv: number[];
  currentMa = 0;
  temperaturesDeciC: (number | null)[] = [250, 252];
  fets: FetState = { chg: false, dsg: false };
  /** Called on each read; may advance the clock or throw to model a bus failure. */
  onRead: ((n: number) => void) | null = null;
  private reads = 0;

  constructor(
    private readonly clock: ManualClock,
    cells = 16,
    cellMv = 3300,
  ) {
    this.cellsMv = Array.from({ length: cells }, () => cellMv);
    this.capabilities = {
      model: "fake",
      cellCount: cells,
      temperatureSensorCount: 2,
      measuresCurrent: true,
      measuresPackVoltage: true,
      measuresBoardTemp: true,
      balancing: null,
      hardwareProtections: [],
      controlsFets: true,
    };
  }

  async configure(limits: HardwareLimits) {
    this.calls.configured.push(limits);
    return { applied: {}, notes: [] };
  }

  async read(): Promise<Sample> {
    const t = this.clock.nowMs();
    this.readTimes.push(t);
    this.onRead?.(this.reads++);
    return {
      timestampMs: t,
      cellVoltagesMv: this.cellsMv,
      packVoltageMv: this.cellsMv.reduce((a, b) => a + b, 0),
      packCurrentMa: this.currentMa,
      temperaturesDeciC: this.temperaturesDeciC,
      boardTempDeciC: 300,
      hardwareFaults: [],
      fets: this.fets,
      balancingCells: [],
    };
  }

  async setFets(f: FetState) {
    this.fets = f;
    this.calls.fets.push(f);
  }

  async setBalancing(cells: readonly number[]) {
    this.calls.balancing.push([...cells]);
  }

  async clearFaults(codes: readonly string[]) {
    this.calls.cleared.push([...codes]);
  }

  async close() {
    this.calls.closed = true;
  }
}
