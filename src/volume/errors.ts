/**
 * Errors of the volume layer, with stable string codes a controller can
 * switch on. Failures of single NFS calls stay node-shaped fs errors
 * (ENOENT, EACCES, ... with syscall and path); these codes name what only
 * the volume layer knows.
 */
export type VolumeErrorCode =
  /** A name or template that is empty, absolute, has '.'/'..' components, control characters, or a reserved prefix. */
  | 'ERR_VOLUME_NAME'
  /** A template naming a variable that was not given, or a value holding '/'. */
  | 'ERR_VOLUME_TEMPLATE'
  /** No directory of that name under the base. */
  | 'ERR_VOLUME_NOT_FOUND'
  /** A directory of that name exists but has no marker: not ours to reuse, archive or delete. */
  | 'ERR_VOLUME_UNMANAGED'
  /** The name is taken by something that is not a directory, its marker names another volume, or it would nest inside a volume. */
  | 'ERR_VOLUME_CONFLICT'
  /** A component of the path below the base is a symlink: refused rather than followed. */
  | 'ERR_VOLUME_SYMLINK'
  /** A delete or restore left something behind; `details` says what. Running it again resumes. */
  | 'ERR_VOLUME_INCOMPLETE'
  /** Restore could not give an entry its recorded owner. */
  | 'ERR_VOLUME_OWNERSHIP'
  /** A snapshot that is missing, not a tar, or whose entries would land outside the volume. */
  | 'ERR_VOLUME_SNAPSHOT';

/**
 * A failure only the volume layer knows (a bad name, a directory that is not a managed volume,
 * an incomplete delete); single NFS failures stay fs errors (`FsError` from the main module). Switch on `code`.
 *
 * @example
 * ```ts
 * try {
 *   await vols.create('../escape');
 * } catch (err) {
 *   if (err instanceof VolumeError && err.code === 'ERR_VOLUME_NAME') console.error(err.message);
 *   else throw err;
 * }
 * ```
 */
export class VolumeError extends Error {
  constructor(
    /** What went wrong, stable across versions (see {@link VolumeErrorCode}). */
    readonly code: VolumeErrorCode,
    message: string,
    /** The volume name the call was about, when there was one. */
    readonly volume?: string,
    /** Structured detail (a delete's counters, the entries that failed). */
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VolumeError';
  }
}
