-- introspect.lua - wrk script: POST /introspect (RFC 7662) of an access
-- token by the client it was issued to (client_secret_basic,
-- BENCH_BASIC); the token is the access token of the first line of
-- BENCH_TOKENS ("refresh_token access_token").
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")
for line in io.lines(os.getenv("BENCH_TOKENS")) do
	wrk.body = "token=" .. line:match("^%S+%s+(%S+)")
	break
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("RESULT rate=%.1f p50_ms=%.2f p99_ms=%.2f " ..
	    "requests=%d sockerr=%d non2xx=%d\n",
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
	    summary.requests, e.connect + e.read + e.write + e.timeout,
	    e.status))
end
