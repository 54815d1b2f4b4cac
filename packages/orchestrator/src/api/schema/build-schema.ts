import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { printSchema } from 'graphql';
import { ErrorCode, KrakenError } from '@kraken/common';
import type { PubSub } from 'type-graphql';
import { buildSchema } from 'type-graphql';
import { resolvers } from './resolvers.js';
// after resolvers.js: decorators register in import order, and the committed schema keeps the older types first
import { ReleaseResolver } from './release-resolver.js';

// type-graphql insists on a process-wide pubSub; ours is per server (in the context), and every
// subscription names its source with `subscribe`, so this one is never reached.
const noGlobalPubSub: PubSub = {
  publish() {
    throw new KrakenError(ErrorCode.Internal, 'subscriptions publish through the per-server pubSub in the API context');
  },
  subscribe() {
    throw new KrakenError(ErrorCode.Internal, 'subscriptions subscribe through the per-server pubSub in the API context');
  },
};

let built: Promise<GraphQLSchema> | undefined;

/**
 * The API schema. Resolvers read everything from the context, so one schema serves every server
 * in the process and is built once. Input checks are ours (clear Kraken errors), not class-validator.
 */
export function krakenSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({ resolvers: [...resolvers, ReleaseResolver], validate: false, pubSub: noGlobalPubSub });
  return built;
}

/** The SDL committed as packages/orchestrator/schema.graphql (declaration order: enums keep lifecycle order). */
export async function printKrakenSchema(): Promise<string> {
  return `${printSchema(await krakenSchema())}\n`;
}
