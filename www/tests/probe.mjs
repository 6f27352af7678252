import { chromium } from "playwright-core";
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await b.newPage({ viewport: { width: 1400, height: 1000 } });
page.on("console", (m) => console.log("console", m.type(), m.text()));
page.on("pageerror", (e) => console.log("pageerror", String(e)));
page.on("crash", () => console.log("CRASH"));
await page.goto(process.argv[2]);
for (let i = 0; i < Number(process.argv[3] ?? 6); i++) {
  await page.waitForTimeout(5000);
  console.log(i, await page.textContent("#sweep-status").catch(() => "?"), await page.textContent(".error").catch(() => ""), await page.textContent(".notice").catch(() => ""));
}
await page.screenshot({ path: process.argv[4] ?? "/tmp/probe.png", fullPage: true });
await b.close();
