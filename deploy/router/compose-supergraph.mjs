// Composes the supergraph the router serves: carematch's SDL (schema.graphql) with the routing
// URL of deploy/router/supergraph.yaml, plus any other subgraph given as a JS module exporting
// `typeDefs` (with `care_listing_interface_object` on, compose from `carematch schema
// --care-listing-interface-object` beside the subgraph that owns the CareListing interface).
// Uses @apollo/composition as pinned in
// tests/federation/package.json; fails on any composition error. Run it from a folder whose
// node_modules holds that package (.ci/run and compose.yaml do).
//
//   node compose-supergraph.mjs SCHEMA ROUTING_URL OUT [MODULE NAME URL]...
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

const [schemaPath, routingUrl, outPath, ...others] = process.argv.slice(2);
if (!schemaPath || !routingUrl || !outPath || others.length % 3 !== 0) {
  console.error('usage: compose-supergraph.mjs SCHEMA ROUTING_URL OUT [MODULE NAME URL]...');
  process.exit(2);
}
const services = [
  { name: 'carematch', url: routingUrl, typeDefs: parse(readFileSync(schemaPath, 'utf8')) },
];
for (let i = 0; i < others.length; i += 3) {
  const module = await import(pathToFileURL(resolve(others[i])).href);
  services.push({ name: others[i + 1], url: others[i + 2], typeDefs: module.typeDefs });
}
const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  for (const error of result.errors) console.error(error.message);
  process.exit(1);
}
writeFileSync(outPath, result.supergraphSdl);
console.log(`supergraph of ${services.map((s) => s.name).join(', ')} written to ${outPath}`);
