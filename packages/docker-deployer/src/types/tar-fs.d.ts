// tar-fs 3 ships no types; only the part of `pack` the deployer uses is declared.
declare module 'tar-fs' {
  import type { Readable } from 'node:stream';

  /** The tar-stream packer tar-fs writes to; `entry` adds a file from a buffer. */
  export interface TarPack extends Readable {
    entry(header: { name: string; mode?: number; size?: number }, content: string | Buffer, callback?: (error?: Error | null) => void): void;
    finalize(): void;
  }

  export interface PackOptions {
    /** true skips the file (and, for a directory, everything under it). */
    ignore?: (name: string) => boolean;
    /** false leaves the archive open so `finish` can add entries before finalizing. */
    finalize?: boolean;
    finish?: (pack: TarPack) => void;
  }

  export function pack(dir: string, options?: PackOptions): TarPack;
}
