export { XdrReader } from './reader.js';
export { XdrWriter } from './writer.js';
export { XdrDecodeError } from './errors.js';
