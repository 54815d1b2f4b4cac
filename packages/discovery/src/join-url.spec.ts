import { parseJoinUrl } from './join-url.js';

describe('parseJoinUrl', () => {
  it('turns an http URL into a join candidate with nothing else known', () => {
    expect(parseJoinUrl('http://10.0.0.5:4000')).toEqual({
      url: 'http://10.0.0.5:4000',
      source: 'join',
      clusterId: undefined,
      role: undefined,
      priority: undefined,
      protocolVersion: undefined,
      compatible: true,
    });
  });

  it('accepts https, host names, IPv6 literals, a trailing slash and surrounding spaces', () => {
    expect(parseJoinUrl(' https://kraken.lan:8443/ ').url).toBe('https://kraken.lan:8443');
    expect(parseJoinUrl('http://[fd00::5]:4000').url).toBe('http://[fd00::5]:4000');
  });

  it("keeps a written port even when it is the scheme's default", () => {
    expect(parseJoinUrl('http://10.0.0.5:80', { defaultPort: 4000 }).url).toBe('http://10.0.0.5:80');
  });

  it('uses defaultPort when the URL names none, and refuses a URL without a port otherwise', () => {
    expect(parseJoinUrl('http://10.0.0.5', { defaultPort: 4000 }).url).toBe('http://10.0.0.5:4000');
    expect(() => parseJoinUrl('http://10.0.0.5')).toThrow(
      '--join: "http://10.0.0.5" has no port: add the API port, such as http://10.0.0.5:4000',
    );
  });

  it.each([
    ['10.0.0.5:4000', /has no scheme: expected http:\/\/ or https:\/\/ in front/],
    ['kraken.lan', /has no scheme/],
    ['ftp://10.0.0.5:21', /has scheme ftp: expected http or https/],
    ['http://exa mple:4000', /is not a URL: expected the orchestrator API/],
    ['  ', /is empty/],
    ['http://10.0.0.5:0', /has an invalid port: expected 1 to 65535/],
    ['http://10.0.0.5:70000', /has an invalid port/],
    ['http://admin:secret@10.0.0.5:4000', /carries credentials: give the join token separately/],
    ['http://10.0.0.5:4000/graphql', /has a path, query or fragment/],
    ['http://10.0.0.5:4000/?token=x', /has a path, query or fragment/],
  ])('refuses %j with a message that says what is expected', (input, message) => {
    expect(() => parseJoinUrl(input)).toThrow(message);
  });

  it('names the setting it checks', () => {
    expect(() => parseJoinUrl('nope', { field: 'join' })).toThrow(/^join: "nope" has no scheme/);
  });
});
