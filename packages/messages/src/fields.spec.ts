import { isBranchName, isGitRemote } from './fields.js';

describe('isGitRemote', () => {
  it.each([
    'https://github.com/alice/app.git',
    'http://git.home.lan:3000/alice/app',
    'ssh://git@git.home.lan:2222/alice/app.git',
    'git://git.home.lan/app.git',
    'git@github.com:alice/app.git',
    'gitea@192.168.1.10:alice/app.git',
    'file:///srv/git/app.git',
    '/srv/git/app.git',
  ])('accepts %s', (remote) => {
    expect(isGitRemote(remote)).toBe(true);
  });

  it.each([
    '',
    '/',
    'ext::sh -c touch% /tmp/pwned',
    '--upload-pack=touch /tmp/pwned',
    '-oProxyCommand=reboot',
    'relative/path',
    './app',
    'ftp://example.com/app.git',
    'https://',
    'https://host/app .git',
    'https://host/app\n.git',
    'git@host://app',
    'file://',
  ])('refuses %j', (remote) => {
    expect(isGitRemote(remote)).toBe(false);
  });
});

describe('isBranchName', () => {
  it.each(['main', 'release/1.4', 'feature/login-form', 'v2.0.0', 'dependabot/npm_and_yarn/zod-4.6.7'])('accepts %s', (branch) => {
    expect(isBranchName(branch)).toBe(true);
  });

  it.each(['', '-main', 'a..b', 'main.lock', 'main.', 'feature/', '/main', 'a//b', '.hidden', 'a/.b', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[b', 'a\\b', '@', 'a@{1}', 'x'.repeat(256)])(
    'refuses %j',
    (branch) => {
      expect(isBranchName(branch)).toBe(false);
    },
  );
});
