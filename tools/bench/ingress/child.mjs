// The server halves of tools/bench/ingress/run.mjs, each a process of its own as on a machine (the
// app, the agent), so that neither shares an event loop with the load generator:
//   --role app                       a small node HTTP app answering 'hello' (as the deploy fixtures do)
//   --role ingress --upstream URL    @kraken/ingress (the agent's) with one route, name `bench` -> URL
// Sends { port } to the parent over IPC once listening; exits when the parent disconnects.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Ingress, RouteTable } from '@kraken/ingress';

const { values } = parseArgs({ options: { role: { type: 'string' }, upstream: { type: 'string' } } });

async function start() {
  if (values.role === 'app') {
    const server = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end('hello from the bench app\n');
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server.address().port;
  }
  if (values.role === 'ingress') {
    if (values.upstream === undefined) throw new Error('--role ingress needs --upstream');
    const routes = new RouteTable();
    routes.apply({ epoch: 1, seq: 0, routes: [{ name: 'bench', deploymentId: 'bench-1', status: 'Running', upstream: values.upstream }] });
    const ingress = await Ingress.listen({ routes, port: 0, host: '127.0.0.1' });
    return ingress.port;
  }
  throw new Error(`--role must be app or ingress, got ${String(values.role)}`);
}

process.send({ port: await start() });
process.on('disconnect', () => process.exit(0));
