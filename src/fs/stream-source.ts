import type { EventEmitter } from 'node:events';

/**
 * What a ReadStream or WriteStream needs of the file under it. FileHandle
 * implements it; streams.ts depends on this interface only, so the two
 * modules do not import each other.
 *
 * The two symbol-keyed methods are not part of node's FileHandle: they give
 * the WriteStream its write-behind (see FileHandle for their contracts).
 */
export interface StreamSource extends EventEmitter {
  readonly fd: number;
  readonly path: string;
  readonly isClosed: boolean;
  read(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<{ bytesRead: number }>;
  write(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  close(): Promise<void>;
  /**
   * Writes `data`, a view of `own` (from takeSpare), at `at`; the source
   * owns `own` from now on. With `advance`, the file position moves past the
   * write as soon as it is issued.
   */
  [kStreamWrite](data: Buffer, own: Buffer, at: number, advance: boolean): Promise<number>;
  /** Where a stream without `start` begins, and whether writes append (O_APPEND). */
  [kStreamStart](): { position: number; append: boolean };
}

export const kStreamWrite: unique symbol = Symbol('mountless.streamWrite');
export const kStreamStart: unique symbol = Symbol('mountless.streamStart');
