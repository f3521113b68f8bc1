// Data-link layer checksum (Kamstrup doc 5512-447 §3.2): CRC-16, polynomial 0x1021,
// initial value 0, no reflection, no final XOR — the standard CRC-16/XMODEM.
// Running it over data followed by its own CRC (MSB first) yields 0.

const table = buildTable();

function buildTable(): Uint16Array {
  const t = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    t[byte] = crc;
  }
  return t;
}

export function crc16Xmodem(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc = ((crc << 8) & 0xffff) ^ (table[((crc >> 8) ^ byte) & 0xff] ?? 0);
  }
  return crc;
}
