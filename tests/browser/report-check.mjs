// Loads a `podmortem report` page in headless Chromium (Debian's, over the DevTools protocol),
// saves a screenshot, filters the timeline by one actor through the page's own control, and
// prints what it saw as JSON for the C++ test to assert on:
//   node report-check.mjs PAGE.html SCREENSHOT.png ACTOR
// Every request other than the page itself is recorded and refused: the page must load nothing.
import puppeteer from 'puppeteer-core';
import { pathToFileURL } from 'node:url';

const [page_, screenshot, actor] = process.argv.slice(2);
if (!page_ || !screenshot || !actor) {
  console.error('usage: node report-check.mjs PAGE.html SCREENSHOT.png ACTOR');
  process.exit(2);
}
const url = pathToFileURL(page_).href;
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
const seen = { consoleErrors: [], pageErrors: [], requests: [] };
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (request.url() === url && request.isNavigationRequest()) return request.continue();
    seen.requests.push(request.url());
    return request.abort();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') seen.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => seen.pageErrors.push(String(error)));
  await page.goto(url, { waitUntil: 'load' });
  const rows = () => page.$$eval('#entries tbody tr', (trs) => trs.map((tr) => ({
    kind: tr.getAttribute('data-kind'),
    actor: tr.getAttribute('data-actor'),
    summary: tr.cells[3].textContent,
    visible: !tr.hidden && tr.offsetParent !== null,
  })));
  seen.title = await page.title();
  seen.verification = await page.$eval('#verification h2', (h) => h.textContent);
  seen.filtersShown = await page.$eval('#filters', (form) => !form.hidden);
  seen.before = await rows();
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.select('#actor-filter', actor);
  seen.after = await rows();
  seen.shown = await page.$eval('#shown', (output) => output.textContent);
  seen.hash = await page.evaluate(() => location.hash);
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
