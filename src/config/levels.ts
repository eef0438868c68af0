import { z } from "zod";

/** One protection level: raise past `limit` after `delayMs`; clear past `reset` after `recoveryDelayMs`. */
export const levelSchema = z
  .object({
    limit: z.number().describe("Threshold that raises the fault"),
    reset: z.number().describe("Threshold the value must return past before the fault clears"),
    delayMs: z.number().int().min(0).max(3_600_000).describe("Time past the limit before raising, ms"),
    recoveryDelayMs: z
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .describe("Time past the reset before clearing, ms"),
  })
  .strict();
export type Level = z.infer<typeof levelSchema>;

export const quantitySchema = z
  .object({
    warning: levelSchema.optional().describe("Inform only"),
    alarm: levelSchema.optional().describe("Derate charge/discharge limits"),
    trip: levelSchema.optional().describe("Act: open the FET on the affected path"),
  })
  .strict();
export type Quantity = z.infer<typeof quantitySchema>;

export type Direction = "high" | "low";

const ORDER = ["warning", "alarm", "trip"] as const;

/**
 * Checks one quantity's levels: reset on the safe side of its limit, and
 * warning → alarm → trip getting more severe. Reports each problem with its path.
 */
export function checkQuantity(
  q: Quantity,
  dir: Direction,
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  let prev: { name: string; limit: number } | null = null;
  for (const name of ORDER) {
    const lv = q[name];
    if (!lv) continue;
    if (dir === "high" ? !(lv.reset < lv.limit) : !(lv.reset > lv.limit)) {
      ctx.addIssue({
        code: "custom",
        path: [...path, name, "reset"],
        message: `reset (${lv.reset}) must be ${dir === "high" ? "below" : "above"} limit (${lv.limit}) so the fault can clear`,
      });
    }
    if (prev && (dir === "high" ? lv.limit < prev.limit : lv.limit > prev.limit)) {
      ctx.addIssue({
        code: "custom",
        path: [...path, name, "limit"],
        message: `${name} limit (${lv.limit}) must be ${dir === "high" ? "at or above" : "at or below"} the ${prev.name} limit (${prev.limit})`,
      });
    }
    prev = { name, limit: lv.limit };
  }
}

export const lv = (limit: number, reset: number, delayMs: number, recoveryDelayMs: number): Level => ({
  limit,
  reset,
  delayMs,
  recoveryDelayMs,
});
