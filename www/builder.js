// Starts the builder (crates/builder) once its wasm is loaded. A file of its own: the page's
// Content-Security-Policy allows no inline script.
import init, { mountBuilder } from '/pkg/builder/formseal_builder.js';

await init();
mountBuilder(document.getElementById('builder'));
