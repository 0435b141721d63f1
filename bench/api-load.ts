// A small closed-loop HTTP load generator, run as its own process by bench/api.ts so that the load does not share
// the server's event loop: CONCURRENCY connections each send GET URL, read the whole body, and send the next,
// until DURATION_MS or MAX_REQUESTS. Prints one JSON line of figures.
//   node bench/api-load.ts URL CONCURRENCY DURATION_MS MAX_REQUESTS [ACCEPT_ENCODING=identity]
// (identity by default: fetch would otherwise ask for br/gzip and spend the load generator's time decoding.)

const [url, conc, dur, max, acceptEncoding = 'identity'] = process.argv.slice(2);
if (!url || !conc || !dur || !max) {
  process.stderr.write('usage: node bench/api-load.ts URL CONCURRENCY DURATION_MS MAX_REQUESTS\n');
  process.exit(2);
}
const concurrency = Number(conc);
const durationMs = Number(dur);
const maxRequests = Number(max);

const latencies: number[] = [];
let errors = 0;
let sent = 0;
let bytes = 0;
const started = performance.now();
const deadline = started + durationMs;

async function worker(): Promise<void> {
  while (performance.now() < deadline && sent < maxRequests) {
    sent++;
    const t0 = performance.now();
    try {
      const res = await fetch(url!, { headers: { 'accept-encoding': acceptEncoding } });
      const body = await res.arrayBuffer();
      bytes += body.byteLength;
      if (res.status !== 200) errors++;
      else latencies.push(performance.now() - t0);
    } catch {
      errors++;
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => (latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!);
process.stdout.write(
  JSON.stringify({
    requests: latencies.length + errors,
    errors,
    seconds: Number(seconds.toFixed(2)),
    requestsPerSecond: Number((latencies.length / seconds).toFixed(1)),
    p50Ms: Number(pct(50).toFixed(2)),
    p99Ms: Number(pct(99).toFixed(2)),
    meanBodyBytes: latencies.length > 0 ? Math.round(bytes / latencies.length) : 0,
  }) + '\n',
);
