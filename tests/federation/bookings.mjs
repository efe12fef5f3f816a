// Owns the `bookings` subgraph of the federation test: a second, independent subgraph that
// extends carematch's `Provider @key(fields: "id")` with fields only it can resolve. It exists so
// the gateway has to plan queries across two services, which is what carematch's entity contract
// (`_entities`, `_service { sdl }`, `@key`) is for. Everything it returns is computed from the
// provider id alone, so run.mjs can predict every value without a database.

import { createHash } from 'node:crypto';

import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

// The same federation version carematch links, so composition does not have to upgrade either
// subgraph (and says nothing about it); entity interfaces need 2.3 or later. Only `@key` is
// needed: bookings owns no shared types.
// No descriptions on `Provider` or `id`: carematch owns those, and a different text here would be
// an INCONSISTENT_DESCRIPTION hint, which run.mjs treats as a failure.
const providerExtension = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])

  type Provider @key(fields: "id") {
    id: ID!
    "Start of the provider's next free appointment (ISO 8601, Pacific time); null when fully booked."
    nextAvailableSlot: String
    "Appointments already booked with this provider, earliest first."
    bookings: [Booking!]!
  }

  "An appointment held by the bookings service."
  type Booking {
    id: ID!
    startsAt: String!
    durationMinutes: Int!
  }
`;

// An interface entity owned here: carematch (with `care_listing_interface_object` on) adds
// fields to every listing, whatever its kind, as an @interfaceObject (it knows providers, not
// listing kinds). A listing shares its provider's id. No description on \`id\` (carematch
// declares it too; see Provider above).
const listings = /* GraphQL */ `
  "Something a mother can book: one provider's listing in the bookings service. A listing has its provider's id."
  interface CareListing @key(fields: "id") {
    id: ID!
    "Headline of the booking page."
    title: String!
  }

  "One-to-one visits with the provider (in person, at home or by video)."
  type VisitListing implements CareListing @key(fields: "id") {
    id: ID!
    title: String!
    "Length of one visit."
    visitMinutes: Int!
  }

  "Seats in the provider's group sessions (classes, support groups)."
  type GroupListing implements CareListing @key(fields: "id") {
    id: ID!
    title: String!
    "Seats still free in the next session."
    seatsLeft: Int!
  }

  type Query {
    "The listing of each of these providers, in the order asked."
    careListings(ids: [ID!]!): [CareListing!]!
  }
`;

// A foreign subgraph as most teams would write one: it only extends carematch's `Provider` by
// id and knows nothing else of carematch (deploy/router/compose-supergraph.mjs composes it too).
export const typeDefs = parse(providerExtension);

// The same subgraph owning `interface CareListing`: the only kind of subgraph carematch's
// interface-object variant composes with.
export const listingsTypeDefs = parse(providerExtension + listings);

// Deterministic stand-in for a calendar: a hash of the id picks the day, hour and booking count.
// run.mjs imports these functions to compute the values it expects back through the gateway.
function seed(id) {
  return createHash('sha256').update(String(id)).digest();
}

export function nextAvailableSlot(id) {
  const bytes = seed(id);
  // Every seventh provider is fully booked, so the nullable field is exercised as null too.
  if (bytes[0] % 7 === 0) return null;
  const day = 1 + (bytes[1] % 28);
  const hour = 8 + (bytes[2] % 9);
  return `2026-12-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00-08:00`;
}

export function bookingsFor(id) {
  const bytes = seed(id);
  const count = 1 + (bytes[3] % 3);
  return Array.from({ length: count }, (_, index) => ({
    id: `${id}:booking:${index + 1}`,
    startsAt: `2026-11-${String(10 + index * 3 + (bytes[4 + index] % 3)).padStart(2, '0')}T${String(9 + (bytes[8 + index] % 8)).padStart(2, '0')}:30:00-08:00`,
    durationMinutes: [30, 45, 60][bytes[12 + index] % 3],
  }));
}

// The listing of a provider: its kind and fields from the same hash, so run.mjs can predict them.
export function listingFor(id) {
  const bytes = seed(id);
  if (bytes[5] % 2 === 0) {
    const visitMinutes = [45, 60, 90][bytes[6] % 3];
    return { __typename: 'VisitListing', id, title: `Visits of ${visitMinutes} minutes`, visitMinutes };
  }
  const seatsLeft = bytes[6] % 12;
  return { __typename: 'GroupListing', id, title: `Group sessions, ${seatsLeft} seats left`, seatsLeft };
}

/**
 * Starts the bookings subgraph, on a free loopback port unless told otherwise (the compose stack
 * in CI serves it on 0.0.0.0:4001: deploy/ci/bookings-server.mjs); with `{ listings: true }`,
 * the variant that owns `interface CareListing`.
 * Returns { url, entityBatches, stop }: `entityBatches` records the provider ids of every
 * `_entities` call the gateway made, so run.mjs can check the gateway really asked this service
 * (and batched the ids of a list into one call rather than one call per provider).
 */
export async function startBookings({ host = '127.0.0.1', port = 0, listings = false } = {}) {
  const entityBatches = [];
  const resolvers = {
    Provider: {
      // Called once per representation; the request's context collects them as one batch.
      __resolveReference(reference, context) {
        context.batch.push(reference.id);
        return { id: reference.id };
      },
      nextAvailableSlot: (provider) => nextAvailableSlot(provider.id),
      bookings: (provider) => bookingsFor(provider.id),
    },
  };
  if (listings) {
    Object.assign(resolvers, {
      CareListing: {
        __resolveType: (listing) => listing.__typename,
        // A reference by the interface (`__typename: "CareListing"`) resolves to its concrete kind.
        __resolveReference: (reference) => listingFor(reference.id),
      },
      VisitListing: { __resolveReference: (reference) => listingFor(reference.id) },
      GroupListing: { __resolveReference: (reference) => listingFor(reference.id) },
      Query: {
        careListings: (_, { ids }) => ids.map(listingFor),
      },
    });
  }
  const server = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs: listings ? listingsTypeDefs : typeDefs, resolvers }]),
    plugins: [
      // Nobody reads traces here; without this the server announces inline tracing on stdout.
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart({ request, contextValue }) {
          if (/\b_entities\b/.test(request.query ?? '')) entityBatches.push(contextValue.batch);
        },
      },
    ],
  });
  // Port 0 (the default): the OS picks a free port, so parallel runs never collide.
  const { url } = await startStandaloneServer(server, {
    listen: { port, host },
    context: async () => ({ batch: [] }),
  });
  return { url, entityBatches, stop: () => server.stop() };
}
