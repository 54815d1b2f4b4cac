import { advertisedApiUrl } from './leader-parts.js';

describe('advertisedApiUrl', () => {
  it('names an API bound to every interface by --public-host', () => {
    expect(advertisedApiUrl('http://0.0.0.0:4000', { publicHost: '10.0.0.7', interface: undefined })).toBe('http://10.0.0.7:4000');
    expect(advertisedApiUrl('http://[::]:4100', { publicHost: 'pi.local', interface: undefined })).toBe('http://pi.local:4100');
  });

  it('keeps the address an API is bound to', () => {
    expect(advertisedApiUrl('http://127.0.0.1:4000', { publicHost: '10.0.0.7', interface: undefined })).toBe('http://127.0.0.1:4000');
  });

  it('passes over a --public-host a URL cannot hold, and names an address instead', () => {
    const url = new URL(advertisedApiUrl('http://0.0.0.0:4000', { publicHost: 'my "lab" host', interface: 'no-such-interface' }));
    expect(url.hostname).toBe('127.0.0.1');
  });
});
