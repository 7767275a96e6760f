// Starts the builder (crates/builder) once its wasm is loaded. A file of its own: the page's
// Content-Security-Policy allows no inline script.
// The banner preview paints its first layer with the first-layer module visitors' pages load,
// with the consent loader's own choice of texts.
import init, { mountBuilder } from '/pkg/builder/formseal_builder.js';
import { bannerText } from '/pkg/formseal-loader.js';

const [firstLayer] = await Promise.all([import('/pkg/formseal-first-layer.js'), init()]);
mountBuilder(document.getElementById('builder'), (shadow, config, lang, onAction) =>
  firstLayer.paintFirstLayer(shadow, config, lang, onAction, bannerText),
);
