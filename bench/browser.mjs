// In-browser benchmark: one training step of the same configs on WebGPU, on the wasm CPU
// backend (both in headless Debian chromium) and natively (the CLI), side by side. The three
// are interleaved round by round (the machines are shared and noisy); each cell gives the
// median and the range over the rounds of the mean time per step (50 or more timed steps).
//
//   cargo xtask bench-web      (builds dist/, serves it, runs this)
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";

const BASE = process.argv[2];
const CLI = process.env.THEORYLAB_CLI ?? "target/release/theorylab";
const ROUNDS = 5;

const configs = {
  "Playground default: spiral 320 pts, 2 -> 64x2 -> 2, Adam, full batch": {
    steps: 201, record_every: 1000000,
  },
  "32 -> 512x3 -> 10, batch 256, SGD (as bench/run.sh)": {
    data: { dataset: "gaussian_mixture", dim: 32, classes: 10, samples: 256, test_fraction: 0 },
    width: 512, depth: 3, optimizer: { kind: "sgd", lr: 0.01 }, steps: 51, record_every: 1000000,
  },
};

const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "theorylab-")), {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--enable-unsafe-webgpu", "--no-sandbox", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const page = await ctx.newPage();
await page.goto(BASE);
await page.waitForSelector('.backend:not([data-backend="detecting"])', { timeout: 60000 });
const adapter = await page.textContent(".backend-name");
console.log(`browser: ${await ctx.browser()?.version() ?? "chromium"}; ${adapter}`);

/**
 * Native ms per step on `threads` gemm threads: the CLI's wall time for `steps` minus that for
 * 1 step (start-up, data).
 */
function native(config, threads) {
  const dir = mkdtempSync(join(tmpdir(), "theorylab-bench-"));
  const time = (steps) => {
    writeFileSync(join(dir, "c.json"), JSON.stringify({ ...config, steps }));
    const t0 = process.hrtime.bigint();
    execFileSync(CLI, ["train", "--config", join(dir, "c.json"), "--backend", "cpu", "--json"],
      { env: { ...process.env, RAYON_NUM_THREADS: String(threads) } });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  return (time(config.steps) - time(1)) / (config.steps - 1);
}

/** ms per step in the page: every timed step on the CPU, the run's mean on WebGPU. */
async function inPage(config, gpu) {
  return page.evaluate(([c, g]) => window.theorylab.bench_train_step(c, g).then(Array.from),
    [JSON.stringify(config), gpu]);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cell = (xs) => xs.length
  ? `${median(xs).toFixed(2)} ms (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`
  : "n/a";

const model = cpus()[0]?.model ?? "unknown CPU";
console.log(`machine: ${model}, ${cpus().length} logical CPUs; ${new Date().toISOString().slice(0, 10)}`);
console.log(`each cell: median (min–max) over ${ROUNDS} interleaved rounds of ms per step`);
const threads = cpus().length;
console.log(`| config | WebGPU (in page) | wasm CPU (in page, per step) | native CPU, 1 thread | native CPU, ${threads} threads | wasm / native 1 thread |`);
console.log("|---|---|---|---|---|---|");
for (const [name, config] of Object.entries(configs)) {
  const gpu = [], wasm = [], one = [], all = [];
  let gpuError = null;
  for (let round = 0; round < ROUNDS; round++) {
    try {
      gpu.push(...await inPage(config, true));
    } catch (e) {
      gpuError = String(e).split("\n")[0];
    }
    // The page's clock ticks in 0.1 ms: a round's mean step, not its single steps.
    wasm.push(mean(await inPage(config, false)));
    one.push(native(config, 1));
    all.push(native(config, threads));
  }
  const ratio = (median(wasm) / median(one)).toFixed(1);
  const webgpu = gpuError && !gpu.length ? `error: ${gpuError}` : cell(gpu);
  console.log(`| ${name} | ${webgpu} | ${cell(wasm)} | ${cell(one)} | ${cell(all)} | ${ratio}x |`);
}
await ctx.close();
