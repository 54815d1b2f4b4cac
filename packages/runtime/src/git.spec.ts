import { ErrorCode } from '@kraken/common';
import { thrown } from '@kraken/testing';
import { validateBranch, validateUrl } from './git.js';

describe('git input checks', () => {
  it.each(['main', 'feature/new-ui', 'release-1.2'])('accepts branch %s', (branch) => {
    expect(() => {
      validateBranch(branch, 'd1');
    }).not.toThrow();
  });

  it.each(['--upload-pack=evil', 'a b', 'a..b', 'x.lock', '', 'end/'])('refuses branch %j as InvalidInput', (branch) => {
    expect(thrown(() => {
      validateBranch(branch, 'd1');
    })).toMatchObject({ code: ErrorCode.InvalidInput, deploymentId: 'd1' });
  });

  it('refuses a URL that git would read as an option', () => {
    expect(thrown(() => {
      validateUrl('--upload-pack=touch /tmp/x', 'd1');
    })).toMatchObject({ code: ErrorCode.InvalidInput });
  });
});
