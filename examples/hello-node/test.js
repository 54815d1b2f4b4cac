// The manifest's test step: fails the deploy if server.js does not even parse.
require('node:child_process').execFileSync(process.execPath, ['--check', 'server.js'], { stdio: 'inherit' });
console.log('server.js parses');
