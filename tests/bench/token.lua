-- token.lua - wrk script: POST a form to the token endpoint with
-- client_secret_basic. BENCH_BASIC is base64(client_id:secret); BENCH_BODY
-- the form (default grant_type=client_credentials); BENCH_BEARER, when set,
-- replaces Basic with "Bearer <value>" (introspection by a resource server
-- that authenticates with a token is not used: Basic is the default).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")
wrk.body = os.getenv("BENCH_BODY") or "grant_type=client_credentials"

-- One machine-readable line for run.sh.
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("RESULT rate=%.1f p50_ms=%.2f p99_ms=%.2f " ..
	    "requests=%d sockerr=%d non2xx=%d\n",
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
	    summary.requests, e.connect + e.read + e.write + e.timeout,
	    e.status))
end
