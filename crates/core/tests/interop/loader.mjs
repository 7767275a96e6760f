// Runs the consent loader's copies of core rules (src/loader.js: `isCurrent`; src/first-layer.js:
// `firstLayerChoice`, `claimsCookie`) on the cases given as JSON on stdin and prints their answers as JSON, for
// crates/core/tests/loader_rules.rs to hold against the core's own.

import { claimsCookie, firstLayerChoice } from '../../../../src/first-layer.js';
import { isCurrent } from '../../../../src/loader.js';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { configs, current, decisions, cookies } = JSON.parse(input);
process.stdout.write(
  JSON.stringify({
    current: current.map(({ config, choice, today }) => isCurrent(configs[config], choice, today)),
    decisions: decisions.map(({ config, granted, now_ms, gpc }) =>
      firstLayerChoice(configs[config], granted, now_ms, gpc),
    ),
    cookies: cookies.map(({ patterns, name }) => claimsCookie(patterns, name)),
  }),
);
