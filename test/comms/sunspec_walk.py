"""Walk the SunSpec chain of a Modbus TCP server with pymodbus and decode model 802.

Usage: /usr/bin/python3 sunspec_walk.py HOST PORT UNIT
       /usr/bin/python3 sunspec_walk.py rtu DEVICE UNIT      (19200 8N1)
Prints one JSON object: the models found, model 802 decoded with its scale factors,
model 805 cell voltages, the reply to a write and to a read past the end model.
Run by test/comms/tcp.test.ts with Debian's python3-pymodbus (3.0).
"""
import json
import sys

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.mei_message import ReadDeviceInformationRequest

unit = int(sys.argv[3])
if sys.argv[1] == "rtu":
    c = ModbusSerialClient(sys.argv[2], baudrate=19200, parity="N", stopbits=1, bytesize=8, timeout=2)
else:
    c = ModbusTcpClient(sys.argv[1], port=int(sys.argv[2]), timeout=3)
if not c.connect():
    print(json.dumps({"error": "connect failed"}))
    sys.exit(1)


def regs(addr, count):
    rr = c.read_holding_registers(addr, count, slave=unit)
    if rr.isError():
        raise RuntimeError("read %d+%d failed: %s" % (addr, count, rr))
    return rr.registers


def s16(v):
    return v - 0x10000 if v & 0x8000 else v


out = {"models": []}
base = None
for b in (40000, 0, 50000):
    rr = c.read_holding_registers(b, 2, slave=unit)
    if not rr.isError() and rr.registers == [0x5375, 0x6E53]:
        base = b
        break
out["base"] = base
addr = base + 2
m802 = None
m805 = []
for _ in range(64):
    mid, length = regs(addr, 2)
    out["models"].append([mid, addr, length])
    if mid == 0xFFFF:
        break
    body = []
    off = 0
    while off < length:  # read in chunks of at most 125 registers, as SunSpec clients do
        n = min(125, length - off)
        body += regs(addr + 2 + off, n)
        off += n
    if mid == 802:
        m802 = body
    if mid == 805:
        m805.append(body)
    addr += 2 + length

if m802 is not None:
    # SMDX offsets (after ID and L); scale factors at 50..61.
    sf = {name: s16(m802[i]) for i, name in enumerate(
        ["AHRtg_SF", "WHRtg_SF", "WChaDisChaMax_SF", "DisChaRte_SF", "SoC_SF", "DoD_SF",
         "SoH_SF", "V_SF", "CellV_SF", "A_SF", "AMax_SF", "W_SF"], start=50)}

    def scaled(i, name, signed=False):
        v = s16(m802[i]) if signed else m802[i]
        return v * 10 ** sf[name]

    out["m802"] = {
        "AHRtg": scaled(0, "AHRtg_SF"),
        "SoC": scaled(9, "SoC_SF"),
        "SoH": scaled(11, "SoH_SF"),
        "NCyc": m802[12] * 65536 + m802[13],
        "ChaSt": m802[14],
        "LocRemCtl": m802[15],
        "Typ": m802[19],
        "State": m802[20],
        "Evt1": m802[24] * 65536 + m802[25],
        "V": scaled(32, "V_SF"),
        "VMax": scaled(33, "V_SF"),
        "CellVMax": scaled(35, "CellV_SF"),
        "CellVMin": scaled(38, "CellV_SF"),
        "A": scaled(42, "A_SF", True),
        "AChaMax": scaled(43, "AMax_SF"),
        "ADisChaMax": scaled(44, "AMax_SF"),
        "W": scaled(45, "W_SF", True),
        "sf": sf,
    }
if m805:
    cells = []
    for body in m805:
        ncell = body[2]
        cell_sf = s16(body[40])
        cells += [body[42 + 4 * k] * 10 ** cell_sf for k in range(ncell)]
    out["cellsV"] = cells

wr = c.write_register(40090, 1, slave=unit)  # AlmRst
out["write"] = "error %d" % wr.exception_code if wr.isError() else "ok"
past = c.read_holding_registers(out["models"][-1][1] + 2, 1, slave=unit)
out["pastEnd"] = past.exception_code if past.isError() else "no exception"
dev = c.execute(ReadDeviceInformationRequest(read_code=1, object_id=0, unit=unit))
out["deviceId"] = {str(k): v.decode("latin1") for k, v in dev.information.items()} if hasattr(dev, "information") else str(dev)
c.close()
print(json.dumps(out))
