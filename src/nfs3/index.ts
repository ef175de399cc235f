export * from './constants.js';
export * from './status.js';
export * from './types.js';
export * from './procedures.js';
