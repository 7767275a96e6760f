// The large-form benchmark of the survey UI: a generated 200-question, 20-page survey with
// branching next to a 10-question, 2-page one, in headless chromium against a local collector.
// Per form, the median over RUNS fresh browsers of: render (navigation → first page usable),
// one page move (Next → the next page shown and its heading focused) and submit (click → the
// collector acknowledged: validate, minimise, seal with WebCrypto, post on loopback). Prints one
// JSON object with both forms and the 200/10 ratios, which are what to compare on a noisy
// machine. Usage: node tests/e2e/survey-bench.mjs [RUNS]   (`cargo xtask bench` runs it)

import { openBrowser } from './fixtures/browser.mjs';
import { startCollector, testForm } from './fixtures/collector.mjs';
import { embed } from './fixtures/site.mjs';

const runs = Number(process.argv[2] ?? '5');

/** A survey of `questions` questions over `pages` pages; every fifth question is conditional. */
function survey(id, questions, pages) {
  const base = testForm();
  const en = (text) => ({ en: text, nl: text });
  const kinds = ['text', 'radio', 'rating', 'likert', 'textarea'];
  const options = ['a', 'b', 'c', 'd'].map((v) => ({ value: v, label: en(`Option ${v}`) }));
  const fields = [];
  for (let i = 0; i < questions; i++) {
    const type = kinds[i % kinds.length];
    const field = { id: `q${i}`, type, label: en(`Question ${i + 1}`), purposes: ['feedback'] };
    if (type === 'radio' || type === 'likert') field.options = options;
    if (type === 'rating') field.scale = '1-5';
    // Shown only when the radio two questions before it was answered "a".
    if (i % 5 === 3) field.show_if = { field: `q${i - 2}`, equals: 'a' };
    fields.push(field);
  }
  const perPage = questions / pages;
  return {
    ...base,
    id,
    kind: 'survey',
    fields,
    pages: Array.from({ length: pages }, (_, p) => ({
      id: `p${p}`,
      title: en(`Part ${p + 1}`),
      fields: fields.slice(p * perPage, (p + 1) * perPage).map((f) => f.id),
    })),
    purposes: [
      {
        id: 'feedback',
        label: en('Feedback'),
        description: en('We improve our service with your answers.'),
        legal_basis: 'legitimate-interests',
        retention_days: 365,
      },
    ],
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)] * 10) / 10;
};

async function measure(collector, file, form) {
  const results = { render: [], pageMove: [], submit: [] };
  for (let run = 0; run < runs; run++) {
    const browser = await openBrowser();
    try {
      const page = browser.page;
      const start = Date.now();
      await page.goto(`${collector.url}${file}`);
      const next = page.locator('formseal-form .fs-next');
      await next.waitFor({ state: 'visible', timeout: 30000 });
      results.render.push(Date.now() - start);
      const moves = [];
      for (let p = 1; p < form.pages.length; p++) {
        const t = Date.now();
        await next.click();
        await page.waitForFunction(
          ([want, title]) => {
            const root = document.querySelector('formseal-form').shadowRoot;
            return (
              root.querySelector('form').dataset.page === want &&
              root.activeElement?.classList.contains(title)
            );
          },
          [`p${p}`, 'fs-page-title'],
        );
        moves.push(Date.now() - t);
      }
      results.pageMove.push(median(moves));
      await page.waitForTimeout(Math.max(0, 2500 - (Date.now() - start)));
      const t = Date.now();
      await page.locator('formseal-form .fs-submit').click();
      await page.waitForFunction(
        () => document.querySelector('formseal-form').getAttribute('data-state') === 'sent',
        null,
        { timeout: 30000 },
      );
      results.submit.push(Date.now() - t);
    } finally {
      await browser.close();
    }
  }
  return {
    questions: form.fields.length,
    pages: form.pages.length,
    render_ms: median(results.render),
    page_move_ms: median(results.pageMove),
    submit_ms: median(results.submit),
  };
}

const small = survey('small', 10, 2);
const large = survey('large', 200, 20);
const collector = await startCollector({
  forms: [small, large],
  files: (formFiles) =>
    Object.fromEntries(
      formFiles.map((formFile, i) => {
        const { script, element } = embed(formFile);
        const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title>${script}</head><body><main>${element}</main></body></html>`;
        return [`bench-${i}.html`, body];
      }),
    ),
});
try {
  const ten = await measure(collector, 'bench-0.html', small);
  const twoHundred = await measure(collector, 'bench-1.html', large);
  const ratio = (key) => Math.round((twoHundred[key] / ten[key]) * 100) / 100;
  console.log(
    JSON.stringify({
      runs,
      small: ten,
      large: twoHundred,
      ratio: { render: ratio('render_ms'), page_move: ratio('page_move_ms'), submit: ratio('submit_ms') },
    }),
  );
} finally {
  await collector.stop();
}
