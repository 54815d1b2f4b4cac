import { gitFixtureRepo, manifestToml } from '@kraken/testing';

/** A local git repository with `files` committed on `branch`, as an app author would push it. */
export const fixtureRepo = gitFixtureRepo;

/** A shipwreck.toml with `config` as the [config] table's body. */
export function manifest(config: string, name = 'worker-fixture'): string {
  return manifestToml(config, name);
}

/** A node HTTP app that prints `bootLines` numbered lines at start and one line per request. */
export function chattyNodeApp(bootLines: number): string {
  return `
const http = require('node:http');
const port = Number(process.env.PORT);
for (let i = 0; i < ${bootLines}; i++) console.log('boot line ' + i);
http.createServer((req, res) => {
  console.log('request ' + req.method + ' ' + req.url);
  res.end('hello from the worker fixture');
}).listen(port, () => console.log('listening on ' + port));
`;
}
