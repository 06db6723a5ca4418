-- wrk script: adds the benchmark's headers and prints one JSON line of results at the end.
local extra = os.getenv("BENCH_HEADERS") or ""

init = function(args)
  for line in string.gmatch(extra, "[^\n]+") do
    local name, value = string.match(line, "^([^:]+):%s*(.*)$")
    if name then
      wrk.headers[name] = value
    end
  end
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1000000
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p99_ms": %.3f, '
      .. '"mean_ms": %.3f, "errors": %d, "non_2xx_3xx": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000,
    errors, summary.errors.status))
end
