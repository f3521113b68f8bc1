export * from './catalogue.js';
export * from './reading.js';
export * from './resolve.js';
export * from './meter-types.js';
export * from './info-codes.js';
