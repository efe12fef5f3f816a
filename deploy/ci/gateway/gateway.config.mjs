// Hive Gateway as CI runs it in front of the compose stack, in place of the Apollo Router (which
// has no build here: docs/operations.md, "The container image"). It keeps the router's contract
// with the subgraph (deploy/router/router.yaml): the shared secret in `x-router-secret`, the
// client's Authorization, request id and trace context forwarded. A request that fails because a
// replica went away (connection refused or reset, 503 while it drains) is retried on another,
// as the router's subgraph retries would.
import { defineConfig } from '@graphql-hive/gateway';

const forwarded = [
  'authorization',
  'x-request-id',
  'traceparent',
  'apollographql-client-name',
  'apollographql-client-version',
];

export const gatewayConfig = defineConfig({
  supergraph: process.env.SUPERGRAPH_PATH ?? '/supergraph/supergraph.graphql',
  port: 4000,
  host: '0.0.0.0',
  // The secret as a header of the carematch transport, which every attempt sends: headers from
  // `propagateHeaders` were seen missing on a retried attempt (Hive Gateway 2.15.1).
  transportEntries: {
    carematch: { headers: [['x-router-secret', process.env.CAREMATCH_ROUTER_SECRET ?? '']] },
  },
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const headers = {};
      for (const name of forwarded) {
        const value = request.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      return headers;
    },
  },
  upstreamRetry: { maxRetries: 3, retryDelay: 200 },
});
