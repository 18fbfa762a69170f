-- refresh.lua - wrk script: refresh-token grants (client_secret_basic,
-- BENCH_BASIC) where every request spends a fresh refresh token. Tokens
-- rotate: the pool of each wrk thread starts with its share of the lines
-- of BENCH_TOKENS ("refresh_token access_token", from bench_signin
-- tokens) and takes back the new refresh token of every answer, so each
-- connection chains its family (a connection only asks again once its
-- answer is in). BENCH_THREADS is wrk's -t.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")

local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("id", threads)
end

local pool = {}
function init(args)
	local n, i = tonumber(os.getenv("BENCH_THREADS") or "2"), 0
	for line in io.lines(os.getenv("BENCH_TOKENS")) do
		if i % n == id - 1 then
			table.insert(pool, (line:match("^(%S+)")))
		end
		i = i + 1
	end
end

function request()
	local t = table.remove(pool) or "exhausted"
	return wrk.format(nil, nil, nil,
	    "grant_type=refresh_token&refresh_token=" .. t)
end

function response(status, headers, body)
	local t = body:match('"refresh_token":"([^"]+)"')
	if t then table.insert(pool, t) end
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
