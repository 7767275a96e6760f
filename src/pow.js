// formseal's proof-of-work solver, run as a Web Worker so that solving never holds up the page.
// It is given [salt, challenge, max] from the collector's ALTCHA v1 challenge and answers the
// number n (0 ≤ n ≤ max) whose SHA-256(salt + n), in hex, is the challenge, or -1 when none is.
// It sees only that public challenge: never a form's answers, never the sealed envelope.
// `cargo xtask wasm` minifies it into pkg/formseal-pow.js, next to the glue that starts it.

// Digests in flight at once: WebCrypto answers each one asynchronously, so a batch keeps it busy.
const BATCH = 500;

onmessage = async ({ data: [salt, challenge, max] }) => {
  const target = challenge.match(/../g).map((byte) => parseInt(byte, 16));
  const utf8 = new TextEncoder();
  for (let start = 0; start <= max; start += BATCH) {
    const digests = [];
    for (let n = start; n <= Math.min(start + BATCH - 1, max); n += 1) {
      digests.push(crypto.subtle.digest('SHA-256', utf8.encode(salt + n)));
    }
    const found = (await Promise.all(digests)).findIndex((digest) =>
      new Uint8Array(digest).every((byte, i) => byte === target[i]));
    if (found >= 0) {
      postMessage(start + found);
      return;
    }
  }
  postMessage(-1);
};
