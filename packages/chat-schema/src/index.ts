/**
 * The v1 chat contract. Server and web client import these schemas, so both
 * agree on every envelope; names are part of the contract — add, never rename.
 */
export * from './common.js';
export * from './client-messages.js';
export * from './server-messages.js';
export * from './http.js';
