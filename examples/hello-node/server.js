// Answers every request with a greeting and the host it runs on, so you can see where Kraken put it.
const http = require('node:http');
const os = require('node:os');

const port = Number(process.env.PORT || 3000);
const greeting = process.env.GREETING || 'Hello from Kraken';

http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${greeting}! (${os.hostname()}, ${req.method} ${req.url})\n`);
  })
  .listen(port, () => {
    console.log(`hello-node listening on ${port}`);
  });
