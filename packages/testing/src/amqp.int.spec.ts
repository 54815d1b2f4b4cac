import type { ChannelModel } from 'amqplib';
import { connect } from 'amqplib';
import { ErrorCode, KrakenError } from '@kraken/common';
import { amqpUrl, deleteQueues, requireRabbit } from './amqp.js';
import { uniqueName } from './names.js';
import { freePort } from '@kraken/common';

describe('the shared test RabbitMQ', () => {
  let connection: ChannelModel;

  beforeAll(async () => {
    await requireRabbit();
    connection = await connect(amqpUrl());
  });

  afterAll(async () => {
    await connection.close();
  });

  it('requireRabbit resolves when RabbitMQ answers', async () => {
    await expect(requireRabbit(amqpUrl())).resolves.toBeUndefined();
  });

  it('requireRabbit fails with the command that starts the services when nothing listens', async () => {
    const port = await freePort(); // free, so nothing listens there
    const url = `amqp://guest:guest@127.0.0.1:${port}`;
    const failure = requireRabbit(url);
    await expect(failure).rejects.toBeInstanceOf(KrakenError);
    await expect(failure).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    await expect(failure).rejects.toThrow(
      `RabbitMQ is not reachable at amqp://guest:***@127.0.0.1:${port}: run \`bash tools/services/services.sh up\``,
    );
  });

  it('deleteQueues removes the named queues and tolerates ones that do not exist', async () => {
    const names = [uniqueName('testing.delete'), uniqueName('testing.delete')];
    const channel = await connection.createChannel();
    for (const name of names) await channel.assertQueue(name, { durable: false });
    await channel.close();

    await deleteQueues(amqpUrl(), [...names, uniqueName('testing.never-created')]);

    for (const name of names) {
      const check = await connection.createChannel();
      check.on('error', () => undefined); // the 404 closes the channel; the rejection below is what we assert
      await expect(check.checkQueue(name)).rejects.toThrow(/NOT_FOUND/);
    }
  });
});
