// The KMP codec: pure functions from bytes to typed values and back. No I/O, timers or logging.
export * from './bytes.js';
export * from './crc.js';
export * from './data-link.js';
export * from './errors.js';
export * from './frame-splitter.js';
export * from './frames.js';
export * from './messages.js';
export * from './physical.js';
export * from './units.js';
export * from './value.js';
