/**
 * bq76952 (bq769x2) direct commands, subcommands, data-memory addresses and encodings
 * (TRM SLUUBY2B, SDG SLUAA11B). Direct-command values are little-endian.
 */
export const CMD = {
  SAFETY_ALERT_A: 0x02,
  SAFETY_STATUS_A: 0x03,
  SAFETY_ALERT_B: 0x04,
  SAFETY_STATUS_B: 0x05,
  SAFETY_ALERT_C: 0x06,
  SAFETY_STATUS_C: 0x07,
  BATTERY_STATUS: 0x12,
  CELL1_VOLTAGE: 0x14,
  STACK_VOLTAGE: 0x34,
  PACK_VOLTAGE: 0x36,
  LD_VOLTAGE: 0x38,
  CC2_CURRENT: 0x3a,
  SUBCMD_LO: 0x3e,
  SUBCMD_HI: 0x3f,
  TRANSFER_BUFFER: 0x40,
  BUFFER_CHECKSUM: 0x60,
  BUFFER_LENGTH: 0x61,
  ALARM_STATUS: 0x62,
  ALARM_RAW_STATUS: 0x64,
  ALARM_ENABLE: 0x66,
  INT_TEMPERATURE: 0x68,
  TS1_TEMPERATURE: 0x70,
  TS2_TEMPERATURE: 0x72,
  TS3_TEMPERATURE: 0x74,
  FET_STATUS: 0x7f,
} as const;

export const SUBCMD = {
  DEVICE_NUMBER: 0x0001,
  FW_VERSION: 0x0002,
  RESET: 0x0012,
  FET_ENABLE: 0x0022,
  MFG_STATUS: 0x0057,
  CB_ACTIVE_CELLS: 0x0083,
  SET_CFGUPDATE: 0x0090,
  EXIT_CFGUPDATE: 0x0092,
  DSG_PDSG_OFF: 0x0093,
  CHG_PCHG_OFF: 0x0094,
  ALL_FETS_OFF: 0x0095,
  ALL_FETS_ON: 0x0096,
  OCDL_RECOVER: 0x009b,
  SCDL_RECOVER: 0x009c,
} as const;

export const DEVICE_NUMBER_BQ76952 = 0x7695;

/** Data memory (settings), each with its size in bytes. */
export const DM = {
  CC_GAIN: { addr: 0x91a8, size: 4 }, // F4
  POWER_CONFIG: { addr: 0x9234, size: 2 },
  TS1_CONFIG: { addr: 0x92fd, size: 1 },
  TS2_CONFIG: { addr: 0x92fe, size: 1 },
  TS3_CONFIG: { addr: 0x92ff, size: 1 },
  DA_CONFIG: { addr: 0x9303, size: 1 },
  VCELL_MODE: { addr: 0x9304, size: 2 },
  FET_OPTIONS: { addr: 0x9308, size: 1 },
  ENABLED_PROTECTIONS_A: { addr: 0x9261, size: 1 },
  CHG_FET_PROTECTIONS_A: { addr: 0x9265, size: 1 },
  DSG_FET_PROTECTIONS_A: { addr: 0x9269, size: 1 },
  CB_MAX_CELLS: { addr: 0x933a, size: 1 },
  CUV_THRESHOLD: { addr: 0x9275, size: 1 },
  CUV_DELAY: { addr: 0x9276, size: 2 },
  COV_THRESHOLD: { addr: 0x9278, size: 1 },
  COV_DELAY: { addr: 0x9279, size: 2 },
  CUV_HYSTERESIS: { addr: 0x927b, size: 1 },
  COV_HYSTERESIS: { addr: 0x927c, size: 1 },
  OCC_THRESHOLD: { addr: 0x9280, size: 1 },
  OCC_DELAY: { addr: 0x9281, size: 1 },
  OCD1_THRESHOLD: { addr: 0x9282, size: 1 },
  OCD1_DELAY: { addr: 0x9283, size: 1 },
  SCD_THRESHOLD: { addr: 0x9286, size: 1 },
  SCD_DELAY: { addr: 0x9287, size: 1 },
  RECOVERY_TIME: { addr: 0x92af, size: 1 },
} as const;

export type DmSetting = (typeof DM)[keyof typeof DM];

/** Safety Alert/Status A bits. */
export const SAFETY_A = { CUV: 0x04, COV: 0x08, OCC: 0x10, OCD1: 0x20, OCD2: 0x40, SCD: 0x80 } as const;
/** Safety Alert/Status B bits. */
export const SAFETY_B = {
  UTC: 0x01,
  UTD: 0x02,
  UTINT: 0x04,
  OTC: 0x10,
  OTD: 0x20,
  OTINT: 0x40,
  OTF: 0x80,
} as const;
/** Safety Alert/Status C bits. */
export const SAFETY_C = { HWDF: 0x02, PTO: 0x04, COVL: 0x10, OCDL: 0x20, SCDL: 0x40, OCD3: 0x80 } as const;

export const BATTERY_STATUS_CFGUPDATE = 0x0001;
export const MFG_STATUS_FET_EN = 0x10;
export const FET_STATUS = { CHG_FET: 0x01, PCHG_FET: 0x02, DSG_FET: 0x04, PDSG_FET: 0x08 } as const;
/** Alarm Status bits used here. */
export const ALARM = {
  WAKE: 0x0001,
  ADSCAN: 0x0002,
  CB: 0x0004,
  XDSG: 0x0020,
  XCHG: 0x0040,
  FULLSCAN: 0x0080,
  SSA: 0x4000,
  SSBC: 0x8000,
} as const;

/** DA Configuration 0x05: CC2 in mA (USER_AMPS = 1 mA), stack/PACK/LD in 10 mV (USER_VOLTS_CV). */
export const DA_CONFIG_MA_CV = 0x05;
/** FET Options 0x0D: SFET, HOST_FET_EN, FET_CTRL_EN (the TRM default). */
export const FET_OPTIONS_DEFAULT = 0x0d;
/** Power Config with SLEEP cleared: a UPS pack must not doze off the ADC between host reads. */
export const POWER_CONFIG_NO_SLEEP = 0x2882;
/** TS pin as a thermistor input, 18 kΩ model, used as a cell temperature. */
export const TS_CONFIG_THERMISTOR = 0x07;

/** Protections we enable: COV, CUV, OCC, OCD1, SCD. */
export const ENABLED_A_MASK = SAFETY_A.COV | SAFETY_A.CUV | SAFETY_A.OCC | SAFETY_A.OCD1 | SAFETY_A.SCD;
/** CHG FET opened by SCD, OCC, COV; DSG FET by SCD, OCD1/2, CUV (TRM defaults). */
export const CHG_FET_PROTECTIONS_A = SAFETY_A.SCD | SAFETY_A.OCC | SAFETY_A.COV;
export const DSG_FET_PROTECTIONS_A = SAFETY_A.SCD | SAFETY_A.OCD2 | SAFETY_A.OCD1 | SAFETY_A.CUV;

/** COV/CUV threshold and hysteresis step, mV. */
export const CELL_STEP_MV = 50.6;
/** COV/CUV/OCC/OCD delay unit, ms: delay = 3.3 ms × (2 + setting). */
export const DELAY_UNIT_MS = 3.3;
/** OCC/OCD threshold step across the shunt, mV. */
export const CURRENT_STEP_MV = 2;
export const SCD_THRESH_MV: readonly number[] = [
  10, 20, 40, 60, 80, 100, 125, 150, 175, 200, 250, 300, 350, 400, 450, 500,
];
/** SCD delay: (setting − 1) × 15 µs. */
export const SCD_DELAY_UNIT_US = 15;

/** Inputs that carry cells when fewer than 16 are wired: the lowest n−1 and the top input VC16. */
export function cellInputs(cells: number): number[] {
  if (!Number.isInteger(cells) || cells < 3 || cells > 16)
    throw new RangeError(`bq76952 takes 3–16 cells, not ${cells}`);
  return [...Array.from({ length: cells - 1 }, (_, i) => i), 15];
}

/** Checksum of a subcommand/data-memory transfer: ~(sum of address bytes and data) & 0xFF. */
export function transferChecksum(cmd: number, data: ArrayLike<number>): number {
  let sum = (cmd & 0xff) + ((cmd >> 8) & 0xff);
  for (let i = 0; i < data.length; i++) sum += data[i] ?? 0;
  return ~sum & 0xff;
}

export const deciKelvinToDeciC = (raw: number): number => Math.round(raw - 2731.5);
export const deciCToDeciKelvin = (deciC: number): number => Math.floor(deciC + 2731.5);
