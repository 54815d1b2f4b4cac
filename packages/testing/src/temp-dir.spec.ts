import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from './temp-dir.js';

describe('tempDir', () => {
  it('removes the directory and its contents when the scope ends', async () => {
    let kept = '';
    {
      await using dir = await tempDir();
      kept = dir.path;
      await writeFile(path.join(dir.path, 'file.txt'), 'x');
      expect(existsSync(path.join(kept, 'file.txt'))).toBe(true);
    }
    expect(existsSync(kept)).toBe(false);
  });

  it('gives every call its own directory', async () => {
    await using a = await tempDir();
    await using b = await tempDir();
    expect(a.path).not.toBe(b.path);
  });
});
