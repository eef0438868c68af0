/**
 * The charge/discharge limits protection publishes for the charger and inverter. In core so
 * that both protection (which computes them) and the simulated UPS (which obeys them) can
 * name them without hal depending on protection.
 */

/** What limits the charger/inverter may use, and which constraint binds each. */
export interface ChargeLimits {
  readonly cvlMv: number;
  readonly cclMa: number;
  readonly dclMa: number;
  readonly cvlBinding: string;
  readonly cclBinding: string;
  readonly dclBinding: string;
}
