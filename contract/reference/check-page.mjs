// Opens the rendered API reference (one self-contained HTML file from
// `redocly build-docs --inlineBundle`) in Debian's headless Chromium, driven by
// playwright-core, with the network off, and checks that a reader finds what
// they need: the signing rule, the error codes and the calling convention on
// the first page; each of the three operations, with its path, its response
// envelope and its error answers (400, 503), one click away in the sidebar.
// Any request other than the file itself, or a script error, fails the check.
//
//   node check-page.mjs PAGE.html [SCREENSHOT-PREFIX]
//
// With a prefix, saves PREFIX-first-view.png and PREFIX-operation.png.
// Exits 0 and prints one summary line; 1 with the reasons otherwise.
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const [pagePath, screenshots] = process.argv.slice(2);
if (!pagePath) {
  console.error("usage: node check-page.mjs PAGE.html [SCREENSHOT-PREFIX]");
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

// The first page (the spec's info.description), as text a reader sees.
const FIRST_PAGE = {
  envelope: ["Calling convention", "appId", "paramContent", "traceId", "always check code"],
  "error codes": ["Error codes", "40001", "40002", "40003", "40004", "HTTP 503"],
  "signing rule": [
    "Signature (default rule: MD5, sorted parameters, secret suffix)",
    "canonical JSON",
    "by Unicode code point",
    "0f63d2848b270e4f5f0de01cc29a5ffe",
    "sign-vectors.json",
  ],
};
// Each operation's page: its path, the envelope of its answer, its error answers.
const OPERATIONS = [
  ["List WeCom employees, one page at a time", "/wecom/employee/page"],
  ["List WeCom customers by cursor", "/wecom/customer/list"],
  ["List WeCom customer group chats by cursor", "/wecom/group-chat/list"],
];
const OPERATION_PAGE = ["code", "msg", "traceId", "result", "40001", "40004", "200", "400", "503"];

const problems = [];
const requests = [];
// Redoc breaks long paths with zero-width spaces; a reader does not see them.
const missing = (text, needles) => {
  const shown = text.replaceAll("\u200b", "");
  return needles.filter((n) => !shown.includes(n)).map((n) => JSON.stringify(n));
};

/** Waits (bounded) until the page shows every needle; returns those still missing. */
async function shownWithin(page, needles, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lost = missing(await page.locator("body").innerText(), needles);
    if (lost.length === 0 || Date.now() > deadline) return lost;
    await page.waitForTimeout(100);
  }
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  // This machine's network is closed: no background traffic of Chromium's own.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  // playwright-core gives every launch a fresh, empty profile (--user-data-dir).
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:") || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    requests.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
  const started = Date.now();
  await page.goto(pathToFileURL(pagePath).href, { waitUntil: "load", timeout: 30_000 });
  await page.getByText("Calling convention").first().waitFor({ timeout: 30_000 });
  const loadedMs = Date.now() - started;
  if (screenshots) await page.screenshot({ path: `${screenshots}-first-view.png` });
  const first = await page.locator("body").innerText();
  for (const [what, needles] of Object.entries(FIRST_PAGE)) {
    const lost = missing(first, needles);
    if (lost.length > 0) problems.push(`first page, ${what}: not shown: ${lost.join(", ")}`);
  }
  await page.getByText("wecom", { exact: true }).first().click();
  for (const [summary, path] of OPERATIONS) {
    const entry = page.getByText(summary).first();
    await entry.waitFor({ timeout: 10_000 });
    await entry.click();
    const lost = await shownWithin(page, [summary, path, ...OPERATION_PAGE], 10_000);
    if (lost.length > 0) problems.push(`${path}: not shown: ${lost.join(", ")}`);
  }
  if (screenshots) await page.screenshot({ path: `${screenshots}-operation.png` });
  const title = await page.title();
  if (requests.length > 0) problems.push(`requests beyond the file: ${requests.slice(0, 5).join(", ")}`);
  if (problems.length === 0) {
    console.log(
      `reference page: "${title}" shown offline by Chromium ${browser.version()} in ${loadedMs} ms: ` +
        `signing rule, error codes and envelope on the first page; ${OPERATIONS.length} operations ` +
        `with envelope, 400 and 503 answers; 0 network requests`,
    );
  }
} finally {
  await browser.close();
}
if (problems.length > 0) {
  for (const p of problems) console.error(`reference page: ${p}`);
  process.exit(1);
}
