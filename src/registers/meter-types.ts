// Meter type codes from GetType, where a source names them (Kamstrup doc 5512-447 §6.2.1).

const meterTypes: ReadonlyMap<number, string> = new Map([
  [0x0001, 'MULTICAL 601 (Pt500)'],
  [0x0004, 'MULTICAL 601 (Pt100)'],
  [0x0402, 'kamstrup-logger simulator, MULTICAL 402'],
]);

export function meterTypeName(meterType: number): string | null {
  return meterTypes.get(meterType) ?? null;
}
