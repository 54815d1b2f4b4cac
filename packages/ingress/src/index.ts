// Public surface of @kraken/ingress: every export is listed by name.
export { Ingress } from './ingress.js';
export type { IngressOptions, ListenOptions, RouteSource } from './ingress.js';
export { RouteTable } from './route-table.js';
export type { Route, RouteSnapshot, RouteTableOptions, RouteTableEvents } from './route-table.js';
