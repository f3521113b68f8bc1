// Hex helpers shared by the codec, the CLI and the tests.

/** "80 3F 10" or "803f10" (spaces optional, any case) → bytes. */
export function fromHex(hex: string): Uint8Array {
  const compact = hex.replace(/\s+/g, '');
  if (compact.length % 2 !== 0 || /[^0-9a-fA-F]/.test(compact)) {
    throw new RangeError(`not a hex byte string: "${hex}"`);
  }
  const bytes = new Uint8Array(compact.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(compact.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** bytes → "80 3F 10" (upper case, space separated). */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

export function hexByte(value: number): string {
  return `0x${value.toString(16).toUpperCase().padStart(2, '0')}`;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
