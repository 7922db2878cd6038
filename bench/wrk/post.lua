-- wrk script of `npm run bench`. The multipart body is read from files that bench.mjs wrote:
--   BENCH_BODY      the whole body: the same request every time (the cached path);
--   BENCH_PREFIX, BENCH_JPEG, BENCH_SUFFIX, with BENCH_FRESH=1: every request carries a different
--                   JPEG, the same pixels with a numbered COM segment after SOI, so only a cache
--                   keyed by bytes misses (the fresh path).
-- At the end it prints one JSON line: requests, seconds, non-2xx, socket errors, latency percentiles.
local function slurp(path)
  local file = assert(io.open(path, "rb"))
  local data = file:read("*a")
  file:close()
  return data
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. os.getenv("BENCH_BOUNDARY")
wrk.headers["License-Id"] = os.getenv("BENCH_LICENSE")

local fresh = os.getenv("BENCH_FRESH") == "1"
local prefix, jpeg, suffix
if fresh then
  prefix = slurp(os.getenv("BENCH_PREFIX"))
  jpeg = slurp(os.getenv("BENCH_JPEG"))
  suffix = slurp(os.getenv("BENCH_SUFFIX"))
else
  wrk.body = slurp(os.getenv("BENCH_BODY"))
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
local run = os.getenv("BENCH_RUN") or "0"
if fresh then
  function request()
    counter = counter + 1
    -- COM segment: FF FE, a 2-byte length that counts itself (2 + 24), then 24 bytes of text.
    local mark = string.format("%8s%4d%12d", run, tid or 0, counter)
    local body = prefix .. "\255\216\255\254\000\026" .. mark .. string.sub(jpeg, 3) .. suffix
    return wrk.format(nil, nil, nil, body)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.6f,"non2xx":%d,"socketErrors":%d,"p50ms":%.3f,"p90ms":%.3f,"p99ms":%.3f,"maxms":%.3f}\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
