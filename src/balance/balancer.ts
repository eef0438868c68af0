/** Foundation balancer: never bleeds. Issue #6 replaces it with the planner. */
import type { BalanceStage } from "../core/stages.js";

export function createBalancer(): BalanceStage {
  return { plan: () => ({ cells: [], reason: "idle: balancing not implemented yet", timeToBalanceS: null }) };
}
