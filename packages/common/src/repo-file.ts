import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Why a file of a checkout was not read. */
export type RepoFileRefusal = 'link' | 'not-a-file' | 'too-large';

/** A file of a checkout that is not read as it is: a symbolic link, not a regular file, or too large. */
export class RepoFileRefused extends Error {
  constructor(
    readonly file: string,
    readonly refusal: RepoFileRefusal,
    readonly size?: number,
  ) {
    super(
      refusal === 'link'
        ? `${file} is a symbolic link: only a regular file of the repository is read (a link may point at any file of the machine)`
        : refusal === 'not-a-file'
          ? `${file} is not a regular file`
          : `${file} is ${String(size)} bytes, too large`,
    );
    this.name = 'RepoFileRefused';
  }
}

/**
 * Reads a file of a checkout (a manifest, a package.json) that the agent reads with its own rights:
 * the repository, or an app running as another user that owns the checkout, may have made it a
 * link to the agent's secrets. The link itself is refused (O_NOFOLLOW, so there is no window between
 * a check and the read), as is anything but a regular file, and a file over `maxBytes` is not read.
 * Other errors (ENOENT...) are thrown as node:fs gives them.
 */
export async function readRepoFile(file: string, maxBytes: number): Promise<string> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new RepoFileRefused(file, 'link');
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new RepoFileRefused(file, 'not-a-file');
    if (info.size > maxBytes) throw new RepoFileRefused(file, 'too-large', info.size);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
