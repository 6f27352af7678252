// In-browser benchmark: one training step of the same configs on WebGPU, on the wasm CPU
// backend (both in headless Debian chromium) and natively (the CLI), printed side by side.
//
//   cargo xtask bench-web      (builds dist/, serves it, runs this)
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BASE = process.argv[2];
const CLI = process.env.THEORYLAB_CLI ?? "target/release/theorylab";

const configs = {
  "Playground default: spiral 320 pts, 2 -> 64x2 -> 2, Adam, full batch": {
    steps: 201, record_every: 1000000,
  },
  "32 -> 512x3 -> 10, batch 256, SGD (as bench/run.sh)": {
    data: { dataset: "gaussian_mixture", dim: 32, classes: 10, samples: 256, test_fraction: 0 },
    width: 512, depth: 3, optimizer: { kind: "sgd", lr: 0.01 }, steps: 11, record_every: 1000000,
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

/** Native ms per step: the CLI's wall time for `steps` minus that for 1 step (start-up, data). */
function native(config) {
  const dir = mkdtempSync(join(tmpdir(), "theorylab-bench-"));
  const time = (steps) => {
    writeFileSync(join(dir, "c.json"), JSON.stringify({ ...config, steps }));
    const t0 = process.hrtime.bigint();
    execFileSync(CLI, ["train", "--config", join(dir, "c.json"), "--backend", "cpu", "--json"]);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const runs = (s) => Math.min(...[0, 1, 2].map(() => time(s)));
  return (runs(config.steps) - runs(1)) / (config.steps - 1);
}

console.log("| config | WebGPU (in page) | wasm CPU (in page) | native CPU |");
console.log("|---|---|---|---|");
for (const [name, config] of Object.entries(configs)) {
  const inPage = async (gpu) => {
    try {
      return (await page.evaluate(([c, g]) => window.theorylab.bench_train_step(c, g),
        [JSON.stringify(config), gpu])).toFixed(2) + " ms";
    } catch (e) {
      return `error: ${String(e).split("\n")[0]}`;
    }
  };
  const gpu = await inPage(true);
  const cpu = await inPage(false);
  console.log(`| ${name} | ${gpu} | ${cpu} | ${native(config).toFixed(2)} ms |`);
}
await ctx.close();
