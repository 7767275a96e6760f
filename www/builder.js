// Starts the builder (crates/builder) once its wasm is loaded. A file of its own: the page's
// Content-Security-Policy allows no inline script.
// The banner preview paints its first layer with the consent loader's own function.
import init, { mountBuilder } from '/pkg/builder/formseal_builder.js';
import { paintFirstLayer } from '/pkg/formseal-loader.js';

await init();
mountBuilder(document.getElementById('builder'), paintFirstLayer);
