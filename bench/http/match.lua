-- wrk script for the HTTP benchmark (BENCHMARKS.md): POSTs matchProviders requests.
-- MODE=cached   : 64 distinct requests, repeated (after a warm-up every one is a cache hit)
-- MODE=uncached : every request distinct (a random radius in metres), so nothing is cached
local mode = os.getenv("MODE") or "cached"
local postal = { "97205", "10001", "60614", "94110", "30303", "75201", "98101", "02139",
                 "80202", "33101", "85004", "19104", "48201", "55401", "63101", "37203" }
local symptoms = { "URINE_LEAKAGE", "LOW_MOOD", "PELVIC_PAIN", "LATCH_DIFFICULTY",
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

done = function(summary, latency, requests)
  io.write(string.format("requests/s %.0f  p50 %.2f ms  p99 %.2f ms  errors %d non-2xx %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.errors.status))
end
