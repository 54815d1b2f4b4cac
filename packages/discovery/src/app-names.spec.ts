import { appNameOf } from './app-names.js';

describe('appNameOf', () => {
  it('takes the app name of a two-label .local name, whatever its case or a trailing dot', () => {
    expect(appNameOf('hello.local')).toBe('hello');
    expect(appNameOf('Hello-2.LOCAL.')).toBe('hello-2');
  });

  it('names no app for longer names, other domains or labels that are not DNS labels', () => {
    for (const name of ['hello.kraken.local', 'hello.lan', 'local', '-x.local', 'a_b.local', `${'a'.repeat(64)}.local`]) {
      expect(appNameOf(name)).toBeUndefined();
    }
  });
});
