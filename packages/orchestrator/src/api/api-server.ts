import 'reflect-metadata';
import http from 'node:http';
import { listenSecure } from '@kraken/trust';
import type { SecureListening, ServedIdentity } from '@kraken/trust';
import type { Duplex } from 'node:stream';
import { ApolloServer } from '@apollo/server';
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { createPubSub } from '@graphql-yoga/subscription';
import type { Clock, Logger } from '@kraken/common';
import { ErrorCode, KrakenError, noopLogger, systemClock, toKrakenError } from '@kraken/common';
import type { NextFunction, Request, Response } from 'express';
import express from 'express';
import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError, OperationTypeNode, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Orchestrator, OrchestratorEvents } from '../orchestrator.js';
import type { NotificationFeedEvents } from '../notifications/notification-feed.js';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import { TokenCheck } from './auth.js';
import type { ApiContext, ApiTopics, PlatformServiceInfo } from './context.js';
import { formatGraphQLError } from './errors.js';
import { fastQueryPlugin } from './fast-query-plugin.js';
import type { ResolveBranchHead } from '../git/git-head.js';
import { gitLsRemote } from '../git/git-head.js';
import type { JoinOptions } from './join.js';
import { checkJoinOptions, joinRouter } from './join.js';
import type { QueryLimits } from './limits.js';
import { defaultQueryLimits, queryLimitRules, tokenLimitError } from './limits.js';
import { uiNotBuiltPage } from './pages.js';
import { httpStatusOf, requireToken, restRouter, sendError } from './rest.js';
import { krakenSchema } from './schema/build-schema.js';
import { Watchers } from './watchers.js';

export interface ApiServerOptions {
  orchestrator: Orchestrator;
  store: OrchestratorStore;
  /** Every request but `/ping` and the static pages needs `Authorization: Bearer <token>`. */
  token: string;
  /** @default noopLogger */
  logger?: Logger;
  /** @default the system clock */
  clock?: Clock;
  /** @default defaultQueryLimits (depth 10, 500 fields, 100 KB, 5,000 tokens) */
  limits?: Partial<QueryLimits>;
  /** How pollRedeploy finds a branch head. @default `git ls-remote` with a 15 s timeout */
  resolveBranchHead?: ResolveBranchHead;
  /**
   * Mounts the web UI (e.g. @kraken/ui-host's middleware) before the fallbacks for `/` and
   * `/index.html`, after the API routes.
   */
  mountUi?: (app: express.Express) => void;
  /** Further services getPlatformServices reports (the broker, the API, the UI), asked on each query. */
  platformServices?: () => readonly PlatformServiceInfo[];
  /** Lets agents join the cluster with `POST /join`; without it, joins are refused (404). */
  join?: JoinOptions;
  /**
   * Accepts requests that send no token (`--insecure-no-auth`, for a trusted lab whose clients
   * cannot send one); a token that is sent must still be right. Logged as a warning at start.
   * @default false
   */
  insecureNoAuth?: boolean;
  /**
   * Resolves once every change committed so far is safe beyond this machine (the standbys' copies):
   * a mutation is answered only then, so an acknowledged write survives the leader.
   */
  durableWrites?: () => Promise<void>;
}

export interface ListeningApi {
  /** `https://host:port` (`http://` without an identity), with the port actually bound (for port 0). */
  url: string;
  close(): Promise<void>;
}

/** The GraphQL + REST API of one orchestrator, on one HTTP server. */
export interface ApiServer extends AsyncDisposable {
  readonly app: express.Express;
  readonly httpServer: http.Server;
  /**
   * Listens on `port`: with `identity` (this agent's certificate from the cluster CA), TLS to
   * everyone and plain HTTP to loopback only; without, plain HTTP to everyone.
   */
  listen(port: number, host?: string, identity?: ServedIdentity): Promise<ListeningApi>;
  /** Whether anyone looks at the cluster through this API: a subscription open, or a request lately. */
  watched(): boolean;
  /** Stops accepting, drains requests, closes WebSockets and unhooks from the orchestrator. */
  close(): Promise<void>;
}

/**
 * Builds the API: Apollo at `/graphql` (POST, and GET for queries), graphql-ws on the same path,
 * the REST routes, and the UI hook. Nothing listens until `listen()`.
 */
export async function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const logger = (options.logger ?? noopLogger).child({ component: 'api' });
  const limits: QueryLimits = { ...defaultQueryLimits, ...options.limits };
  const tokens = new TokenCheck(options.token, 'api token', options.insecureNoAuth === true);
  if (options.insecureNoAuth === true)
    logger.warn('insecureNoAuth: the API accepts requests that send no token; use this only on a network you trust completely');
  if (options.join !== undefined) checkJoinOptions(options.join);
  const schema = await krakenSchema();
  const limitRules = queryLimitRules(limits);

  const pubSub = createPubSub<ApiTopics>();
  const context: ApiContext = {
    orchestrator: options.orchestrator,
    platformServices: options.platformServices ?? (() => []),
    store: options.store,
    pubSub,
    resolveBranchHead: options.resolveBranchHead ?? gitLsRemote(),
    logger,
  };
  const unhook = republish(options.orchestrator, pubSub);

  const app = express();
  app.disable('x-powered-by');
  // An ETag is a SHA-1 over every response body (500 KB for getDeployments with 1,000
  // deployments), for POSTs no cache revalidates: pure cost.
  app.set('etag', false);
  // connections come through listenSecure's gate, which tells TLS from plain HTTP
  const httpServer = http.createServer(app);
  let gate: SecureListening | undefined;
  const watchers = new Watchers(options.clock ?? systemClock);
  const closeOfConnection = new WeakMap<object, () => void>();

  // Upgrades handed over by hand (noServer): a WebSocketServer given the HTTP server re-emits that
  // server's errors, and graphql-ws prints them as its own ("Internal error emitted on the WebSocket
  // server") with a stack, over a port clash that listen() reports plainly.
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: limits.maxBodyBytes });
  httpServer.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? '/', 'http://api').pathname !== '/graphql') {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    wsServer.handleUpgrade(request, socket, head, (ws) => {
      wsServer.emit('connection', ws, request);
    });
  });
  const format = (errors: readonly GraphQLFormattedError[]): GraphQLFormattedError[] =>
    errors.map((error) => formatGraphQLError(error, error instanceof GraphQLError ? error : undefined, logger));
  const wsCleanup = useServer(
    {
      schema,
      context: () => context,
      onConnect: (ctx) => {
        const params = ctx.connectionParams ?? {};
        const header = params.authorization ?? params.Authorization ?? ctx.extra.request.headers.authorization;
        const why = tokens.reject(header);
        if (why !== undefined) logger.warn('refused a subscription connection', { reason: why });
        else closeOfConnection.set(ctx, watchers.connected());
        return why === undefined;
      },
      // called for every socket that closes; only accepted ones were counted
      onClose: (ctx) => {
        closeOfConnection.get(ctx)?.();
      },
      // as refuseOversizedQueries does for HTTP: an oversized document is refused before it is parsed
      onSubscribe: (_ctx, _id, payload) => {
        const error = tokenLimitError(payload.query, limits.maxTokens);
        return error === undefined ? undefined : [error];
      },
      validate: (validatedSchema, document) => validate(validatedSchema, document, [...specifiedRules, ...limitRules]),
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors === undefined ? result : { ...result, errors: format(result.errors) },
    },
    wsServer,
  );

  const apollo = new ApolloServer<ApiContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // the host (the agent) owns signals and stops everything in order; Apollo's own handler would
    // re-raise SIGTERM, and the agent would take that for a second signal and exit before closing
    // its store, its broker and its RabbitMQ node
    stopOnTerminationSignals: false,
    // GET /graphql runs queries (never mutations). Apollo's CSRF guard refuses a GET that a page on
    // another site could have sent (a "simple" request); one with an Authorization header cannot be
    // sent cross-site without a CORS preflight, which this API never grants, so the header every
    // request needs here (bearer token) also proves it is not such a request. Without a token
    // (insecureNoAuth) a GET still needs apollo-require-preflight, as Apollo asks.
    csrfPrevention: { requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'] },
    validationRules: limitRules,
    formatError: (formatted, error) => formatGraphQLError(formatted, error, logger),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // Installed by default, it hooks every field resolution to compute cache hints nobody
      // reads here (responses are per user and never cached by a CDN).
      ApolloServerPluginCacheControlDisabled(),
      fastQueryPlugin<ApiContext>(),
      ...(options.durableWrites === undefined ? [] : [durableMutationsPlugin(options.durableWrites, logger)]),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        serverWillStart() {
          return Promise.resolve({
            async drainServer() {
              await wsCleanup.dispose();
            },
          });
        },
      },
    ],
  });
  await apollo.start();

  app.use(
    restRouter({
      ...context,
      tokens,
      clock: options.clock ?? systemClock,
      ...(options.join === undefined ? {} : { clusterId: options.join.clusterId }),
    }),
  );
  app.use(joinRouter({ join: options.join, orchestrator: options.orchestrator, store: options.store, logger }));
  app.use(
    '/graphql',
    requireToken(tokens),
    (_req: Request, _res: Response, next: NextFunction) => {
      watchers.requested();
      next();
    },
    express.json({ limit: limits.maxBodyBytes }),
    refuseOversizedQueries(limits.maxTokens, format),
    expressMiddleware(apollo, { context: () => Promise.resolve(context) }),
  );
  options.mountUi?.(app);
  app.get('/', (_req, res) => {
    res.redirect('/index.html');
  });
  app.get('/index.html', (_req, res) => {
    res.type('html').send(uiNotBuiltPage);
  });
  app.use((req, res) => {
    sendError(req, res, 404, ErrorCode.NotFound, `no route ${req.method} ${req.path}`);
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    handleError(error, req, res, logger);
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      unhook();
      // stop() drains the HTTP server (and through the plugin, the WebSocket server)
      await apollo.stop();
      // the gate takes no more connections; the drain above ended those it handed over
      await gate?.close();
    })();
    return closing;
  };

  return {
    app,
    httpServer,
    async listen(port, host = '127.0.0.1', identity) {
      const listening = await listenSecure(httpServer, { port, host, what: 'the API', identity });
      gate = listening;
      logger.info('api listening', { url: listening.url, tls: identity !== undefined });
      return { url: listening.url, close };
    },
    watched: () => watchers.watched(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Orchestrator events -> subscription topics; returns the function that detaches them. */
function republish(orchestrator: Orchestrator, pubSub: ApiContext['pubSub']): () => void {
  const onDeployment = (...[deployment]: OrchestratorEvents['deploymentChanged']) => {
    pubSub.publish('deploymentChanged', deployment);
  };
  const onNode = (...[node]: OrchestratorEvents['nodeChanged']) => {
    pubSub.publish('nodeChanged', node);
  };
  const onLog = (...[deploymentId, lines]: OrchestratorEvents['logLines']) => {
    pubSub.publish('logLines', deploymentId, lines);
  };
  const onNotification = (...[notification]: NotificationFeedEvents['raised']) => {
    pubSub.publish('notificationRaised', notification);
  };
  orchestrator.on('deploymentChanged', onDeployment).on('nodeChanged', onNode).on('logLines', onLog);
  orchestrator.notifications.on('raised', onNotification);
  return () => {
    orchestrator.off('deploymentChanged', onDeployment).off('nodeChanged', onNode).off('logLines', onLog);
    orchestrator.notifications.off('raised', onNotification);
  };
}

/** Last-resort handler: a failing request answers with a JSON error, never takes the server down. */
function handleError(error: unknown, req: Request, res: Response, logger: Logger): void {
  const status = (error as { status?: unknown }).status;
  const type = (error as { type?: unknown }).type;
  if (type === 'entity.too.large') {
    sendError(
      req,
      res,
      413,
      ErrorCode.PayloadTooLarge,
      `request body is larger than ${String((error as { limit?: unknown }).limit)} bytes`,
    );
    return;
  }
  if (typeof status === 'number' && status >= 400 && status < 500 && !(error instanceof KrakenError)) {
    sendError(req, res, status, ErrorCode.InvalidInput, (error as Error).message);
    return;
  }
  const failure = toKrakenError(error);
  const httpStatus = httpStatusOf(failure);
  if (httpStatus >= 500) logger.error('request failed', { method: req.method, path: req.path, error: failure });
  sendError(req, res, httpStatus, failure.code, failure.message, {
    ...(failure.deploymentId === undefined ? {} : { deploymentId: failure.deploymentId }),
    ...(failure.nodeId === undefined ? {} : { nodeId: failure.nodeId }),
    ...(failure.details === undefined ? {} : { details: failure.details }),
  });
}

/**
 * Holds a mutation's answer until what it wrote is durable beyond this machine; when it cannot be
 * made so, the answer keeps what the mutation did and adds an error that says so.
 */
function durableMutationsPlugin(durableWrites: () => Promise<void>, logger: Logger): ApolloServerPlugin<ApiContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        async willSendResponse({ operation, response }) {
          if (operation?.operation !== OperationTypeNode.MUTATION) return;
          try {
            await durableWrites();
          } catch (error) {
            if (response.body.kind !== 'single') return;
            const failure = toKrakenError(error);
            const { singleResult } = response.body;
            singleResult.errors = [...(singleResult.errors ?? []), formatGraphQLError({ message: failure.message }, failure, logger)];
          }
        },
      });
    },
  };
}

/**
 * Refuses a query with more than `maxTokens` tokens before Apollo parses and validates it (see
 * QueryLimits.maxTokens), answering as Apollo answers a query that fails validation.
 */
function refuseOversizedQueries(maxTokens: number, format: (errors: readonly GraphQLFormattedError[]) => GraphQLFormattedError[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const body: unknown = req.body;
    // POST sends the query in the JSON body, GET in the URL
    const query = (typeof body === 'object' && body !== null ? (body as { query?: unknown }).query : undefined) ?? req.query['query'];
    const error = typeof query === 'string' ? tokenLimitError(query, maxTokens) : undefined;
    if (error === undefined) {
      next();
      return;
    }
    res.status(400).json({ errors: format([error.toJSON()]) });
  };
}
