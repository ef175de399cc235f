export * from './constants.js';
export * from './status.js';
export * from './procedures.js';
export * from './locks.js';
