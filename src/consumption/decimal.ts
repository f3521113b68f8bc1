// Exact decimals for consumption figures: bigints at a fixed scale of six decimal places
// (1 mWh, 1 cm³, 3.6 ms of operating time). Every figure is a sum of such integers, so a
// month is the exact sum of its days, and a period's parts of an interval sum to the
// interval's difference to the last digit.

export const SCALE = 6;
const ONE = 10n ** BigInt(SCALE);

/** n / d rounded half away from zero; d > 0. */
export function divideRounded(n: bigint, d: bigint): bigint {
  const twice = 2n * n;
  return n >= 0n ? (twice + d) / (2n * d) : -((-twice + d) / (2n * d));
}

/**
 * A decimal text ("74.561", "-0.5") × numerator / denominator at the fixed scale, rounded half
 * away from zero when the product has more than six decimals (GJ → kWh, say).
 */
export function scaled(text: string, numerator = 1n, denominator = 1n): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (match === null) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`);
  const fraction = match[3] ?? '';
  const digits = BigInt(`${match[1] ?? ''}${match[2] ?? ''}${fraction}`);
  return divideRounded(digits * numerator * ONE, denominator * 10n ** BigInt(fraction.length));
}

/** A fixed-scale integer as decimal text without trailing zeros: 12500000n → "12.5". */
export function formatScaled(value: bigint): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(SCALE + 1, '0');
  const whole = digits.slice(0, -SCALE);
  const fraction = digits.slice(-SCALE).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** numerator / denominator (both at the fixed scale) as text with `places` decimals, rounded; null when the denominator is not positive. */
export function ratio(numerator: bigint, denominator: bigint, places: number): string | null {
  if (denominator <= 0n) return null;
  const value = divideRounded(numerator * 10n ** BigInt(places), denominator);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(places + 1, '0');
  return `${negative ? '-' : ''}${places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`}`;
}
