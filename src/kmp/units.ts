// Unit byte → symbol (Kamstrup doc 5512-447 §4.1). 0x15 is W and 0x19 var as in Kamstrup's
// own list; tables descending from an old Python script say kW / kvar there.

export const unitSymbols: ReadonlyMap<number, string> = new Map([
  [0x00, ''], [0x01, 'Wh'], [0x02, 'kWh'], [0x03, 'MWh'], [0x04, 'GWh'],
  [0x05, 'J'], [0x06, 'kJ'], [0x07, 'MJ'], [0x08, 'GJ'],
  [0x09, 'Cal'], [0x0a, 'kCal'], [0x0b, 'Mcal'], [0x0c, 'Gcal'],
  [0x0d, 'varh'], [0x0e, 'kvarh'], [0x0f, 'Mvarh'], [0x10, 'Gvarh'],
  [0x11, 'VAh'], [0x12, 'kVAh'], [0x13, 'MVAh'], [0x14, 'GVAh'],
  [0x15, 'W'], [0x16, 'kW'], [0x17, 'MW'], [0x18, 'GW'],
  [0x19, 'var'], [0x1a, 'kvar'], [0x1b, 'Mvar'], [0x1c, 'Gvar'],
  [0x1d, 'VA'], [0x1e, 'kVA'], [0x1f, 'MVA'], [0x20, 'GVA'],
  [0x21, 'V'], [0x22, 'A'], [0x23, 'kV'], [0x24, 'kA'],
  [0x25, '°C'], [0x26, 'K'], [0x27, 'l'], [0x28, 'm³'], [0x29, 'l/h'], [0x2a, 'm³/h'],
  [0x2b, 'm³×°C'], [0x2c, 'ton'], [0x2d, 'ton/h'], [0x2e, 'h'],
  [0x2f, 'hh:mm:ss'], [0x30, 'yy:mm:dd'], [0x31, 'yyyy:mm:dd'], [0x32, 'mm:dd'],
  [0x33, 'number'], [0x34, 'bar'], [0x35, 'RTC'], [0x36, 'ASCII'],
  [0x37, 'm³×10'], [0x38, 'ton×10'], [0x39, 'GJ×10'], [0x3a, 'minutes'], [0x3b, 'bitfield'],
  [0x3c, 's'], [0x3d, 'ms'], [0x3e, 'days'], [0x3f, 'RTC-Q'], [0x40, 'datetime'],
  [0x41, 'imp/l'], [0x42, 'l/imp'], [0x43, 'Hz'], [0x44, 'degree'], [0x45, '%'],
  [0x46, 'US gal'], [0x47, 'US gal/min'], [0x48, 'KamDateTime'], [0x49, 'IPv4'], [0x4a, 'IPv6'],
  [0x4f, 'DST datetime'],
  [0x55, '%RH'], [0x56, '%O₂'], [0x57, 'm/s'], [0x58, 'kJ/kg'], [0x59, 'pH'], [0x5a, 'g/kg'],
]);

export const UNIT_TIME = 0x2f;
export const UNIT_DATE_YYMMDD = 0x30;
export const UNIT_DATE_YYYYMMDD = 0x31;
export const UNIT_DATE_MMDD = 0x32;
export const UNIT_DST_DATETIME = 0x4f;

/** The symbol of a unit byte; an unknown byte shows as "unit 0x5B" rather than failing. */
export function unitSymbol(unitCode: number): string {
  return unitSymbols.get(unitCode) ?? `unit 0x${unitCode.toString(16).toUpperCase().padStart(2, '0')}`;
}

export function isDateTimeUnit(unitCode: number): boolean {
  return (
    unitCode === UNIT_TIME ||
    unitCode === UNIT_DATE_YYMMDD ||
    unitCode === UNIT_DATE_YYYYMMDD ||
    unitCode === UNIT_DATE_MMDD ||
    unitCode === UNIT_DST_DATETIME
  );
}
