// Public surface of @kraken/ui-host: every export is listed by name.
export { uiMiddleware, defaultUiRoot } from './ui-middleware.js';
export type { UiMiddlewareOptions } from './ui-middleware.js';
export { createApiProxy } from './api-proxy.js';
export type { ApiProxy } from './api-proxy.js';
export { startUiServer } from './ui-server.js';
export type { UiServerOptions, RunningUiServer } from './ui-server.js';
export { parseCliArgs, usage } from './cli-args.js';
