// The floor under the router: the least a gateway on this stack can do (fastify receives, undici forwards
// to the same upstream, the answer is sent back), with no routing, auth or telemetry. The bench measures
// it beside the router so "added latency" can be split into what the stack costs and what our code adds.
import Fastify from 'fastify';
import { Agent } from 'undici';

const upstream = process.argv[2];
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 512, pipelining: 1 });
const app = Fastify({ logger: false });
app.post('/v1/chat/completions', async (req, reply) => {
  const body = req.body as { model: string };
  const res = await agent.request({
    origin: upstream,
    path: '/openai/v1/chat/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, model: body.model.split('/')[1] }),
  });
  const answer = await res.body.json();
  return reply.code(res.statusCode).send(answer);
});
const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`FLOOR ${url}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
