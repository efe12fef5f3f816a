// The example `bookings` subgraph (tests/federation/bookings.mjs) as a service of the compose
// stack in CI, so a query through the gateway crosses two subgraphs as in production. compose
// mounts tests/federation (with its node_modules) at /federation.
import { startBookings } from '/federation/bookings.mjs';

const { url, stop } = await startBookings({ host: '0.0.0.0', port: 4001 });
console.log(`bookings subgraph at ${url}`);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => stop().then(() => process.exit(0)));
}
