export { startModbus, type ModbusHandle, type ModbusSource, type ModbusDeps } from "./server.js";
export { buildMap, renderImage, readRegisters, type RegisterMap } from "./map.js";
export { ModbusEngine, EXC, FC } from "./pdu.js";
export { renderRegistersMarkdown } from "./docs.js";
