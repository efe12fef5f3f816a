// Composes the supergraph the router serves from the subgraph SDL (schema.graphql), with the
// routing URL of deploy/router/supergraph.yaml, using @apollo/composition (the version pinned in
// tests/federation/package.json). Fails on any composition error.
//
//   node deploy/router/compose-supergraph.mjs schema.graphql http://carematch:8080/graphql OUT
import { readFileSync, writeFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

const [schemaPath, routingUrl, outPath] = process.argv.slice(2);
if (!schemaPath || !routingUrl || !outPath) {
  console.error('usage: compose-supergraph.mjs SCHEMA ROUTING_URL OUT');
  process.exit(2);
}
const result = composeServices([
  { name: 'carematch', url: routingUrl, typeDefs: parse(readFileSync(schemaPath, 'utf8')) },
]);
if (result.errors && result.errors.length > 0) {
  for (const error of result.errors) console.error(error.message);
  process.exit(1);
}
writeFileSync(outPath, result.supergraphSdl);
console.log(`supergraph written to ${outPath}`);
