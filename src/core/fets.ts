/** Charge and discharge FET (or contactor) state; `true` means closed (conducting). */
export interface FetState {
  readonly chg: boolean;
  readonly dsg: boolean;
}
