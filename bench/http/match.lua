-- wrk script for the HTTP benchmark (BENCHMARKS.md): POSTs matchProviders requests.
-- MODE=cached   : 64 distinct requests, repeated (after a warm-up every one is a cache hit)
-- MODE=uncached : every request distinct (a random radius in metres), so nothing is cached
local mode = os.getenv("MODE") or "cached"
local postal = { "97205", "10001", "60614", "94110", "30303", "75201", "98101", "02139",
                 "80202", "33101", "85004", "19104", "48201", "55401", "63101", "37203" }
local symptoms = { "URINE_LEAKAGE", "LOW_MOOD", "PELVIC_PAIN", "BREASTFEEDING_DIFFICULTY",
                   "BACK_PAIN", "ANXIETY" }
local query = "query Match($i: MatchInput!) { matchProviders(input: $i, first: 20) { matchId totalCount edges { node { rank score distanceKm paymentFit reasons provider { id name } } } pageInfo { hasNextPage endCursor } } }"
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"

local counter = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))

request = function()
  counter = counter + 1
  local radius
  local n
  if mode == "uncached" then
    n = math.random(1, 1000000)
    radius = string.format("%.3f", 5 + math.random() * 45)
  else
    n = counter % 64
    radius = "25"
  end
  local body = string.format(
    '{"query":"%s","variables":{"i":{"location":{"postalCode":"%s"},"radiusKm":%s,"symptoms":["%s"]}}}',
    query, postal[(n % #postal) + 1], radius, symptoms[(n % #symptoms) + 1])
  return wrk.format(nil, "/graphql", nil, body)
end

-- GraphQL answers errors with status 200: count the answers that carry any, so a benchmark
-- of refused requests cannot pass for a fast one.
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

graphql_errors = 0
response = function(status, headers, body)
  if string.find(body, '"errors"', 1, true) then
    graphql_errors = graphql_errors + 1
  end
end

done = function(summary, latency, requests)
  local answered_with_errors = 0
  for _, thread in ipairs(threads) do
    answered_with_errors = answered_with_errors + thread:get("graphql_errors")
  end
  io.write(string.format(
    "requests/s %.0f  p50 %.2f ms  p99 %.2f ms  errors %d non-2xx %d graphql-errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.errors.status, answered_with_errors))
end
