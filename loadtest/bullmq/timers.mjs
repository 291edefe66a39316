// BullMQ's delayed jobs as the reference for the scheduler's timers, on the
// same Redis in the same run (loadtest/scenarios.py, group "timers"):
//
//   node timers.mjs arm REDIS_HOST:PORT COUNT
//       adds COUNT delayed jobs (addBulk, 1,000 at a time, 8 batches in
//       flight), due weeks from now; prints jobs/s and Redis memory per job.
//   node timers.mjs due REDIS_HOST:PORT RATE SECONDS
//       adds RATE x SECONDS delayed jobs due one after another at RATE per
//       second from a moment after adding ends, and runs a worker (no-op
//       processor, concurrency 100) that takes them as they fall due; prints
//       the lag of each job's start behind its due time, p50/p99/max.
//
// One JSON object on stdout.
import { Queue, Worker } from "bullmq";
import IORedis from "ioredis";

const [mode, address, ...rest] = process.argv.slice(2);
const [host, port] = address.split(":");
const connection = { host, port: Number(port), maxRetriesPerRequest: null };
const name = `lt-${Date.now().toString(36)}`;

async function usedMemory(redis) {
  const info = await redis.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

async function addAll(queue, count, dueAt) {
  const started = Date.now();
  let next = 0;
  async function lane() {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + 1000);
      const now = Date.now();
      const jobs = [];
      for (let n = from; n < next; n++) {
        jobs.push({ name: "sla", data: { n }, opts: { delay: Math.max(0, dueAt(n) - now) } });
      }
      await queue.addBulk(jobs);
    }
  }
  await Promise.all(Array.from({ length: 8 }, lane));
  return (Date.now() - started) / 1000;
}

function percentile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
}

const redis = new IORedis(connection);
const queue = new Queue(name, { connection });
const result = { mode };
if (mode === "arm") {
  const count = Number(rest[0]);
  const before = await usedMemory(redis);
  const far = Date.now() + 30 * 86400 * 1000;
  const seconds = await addAll(queue, count, (n) => far + (n % 86400000));
  const after = await usedMemory(redis);
  Object.assign(result, { jobs: count, seconds, rate: count / seconds, bytes_per_job: (after - before) / count });
} else {
  const rate = Number(rest[0]);
  const count = Math.round(rate * Number(rest[1]));
  const firstDue = Date.now() + 2000 + (count / 10000) * 1000;
  const lags = [];
  const worker = new Worker(
    name,
    async (job) => {
      lags.push(Date.now() - (job.timestamp + job.opts.delay));
    },
    { connection, concurrency: 100 },
  );
  const seconds = await addAll(queue, count, (n) => firstDue + (n * 1000) / rate);
  const lastDue = firstDue + ((count - 1) * 1000) / rate;
  while (lags.length < count && Date.now() < lastDue + 60000) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await worker.close();
  lags.sort((a, b) => a - b);
  Object.assign(result, {
    jobs: count, rate, add_seconds: seconds, fired: lags.length, never_fired: count - lags.length,
    lag: { p50_ms: percentile(lags, 0.5), p90_ms: percentile(lags, 0.9), p99_ms: percentile(lags, 0.99),
           max_ms: lags.length ? lags[lags.length - 1] : null, samples: lags.length },
  });
}
await queue.obliterate({ force: true }).catch(() => {});
await queue.close();
await redis.quit();
console.log(JSON.stringify(result));
