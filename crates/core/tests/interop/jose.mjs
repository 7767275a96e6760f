// Interop helper for crates/core/tests/jose_interop.rs: the npm package `jose` on the other side
// of formseal's JWE. Reads one JSON request on stdin, writes one JSON answer on stdout.
//
//   decrypt          {jwe, pem}                 -> {plaintext, protectedHeader}  (compact or General JSON)
//   encrypt-compact  {jwk, plaintext}           -> {jwe}   alg RSA-OAEP-256, enc A256GCM, kid = jwk.kid
//   encrypt-general  {jwks: [..], plaintext}    -> {jwe}   one recipient per JWK, header {alg, kid}
//
// Plaintexts travel as base64url.
import * as jose from 'jose';

const b64u = {
  encode: (bytes) => Buffer.from(bytes).toString('base64url'),
  decode: (text) => new Uint8Array(Buffer.from(text, 'base64url')),
};

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const commands = {
  async decrypt({ jwe, pem }) {
    const key = await jose.importPKCS8(pem, 'RSA-OAEP-256');
    const options = { keyManagementAlgorithms: ['RSA-OAEP-256'], contentEncryptionAlgorithms: ['A256GCM'] };
    const result = jwe.trimStart().startsWith('{')
      ? await jose.generalDecrypt(JSON.parse(jwe), key, options)
      : await jose.compactDecrypt(jwe, key, options);
    return { plaintext: b64u.encode(result.plaintext), protectedHeader: result.protectedHeader };
  },
  async 'encrypt-compact'({ jwk, plaintext }) {
    const key = await jose.importJWK(jwk, 'RSA-OAEP-256');
    const jwe = await new jose.CompactEncrypt(b64u.decode(plaintext))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid, form: 'from-jose' })
      .encrypt(key);
    return { jwe };
  },
  async 'encrypt-general'({ jwks, plaintext }) {
    const builder = new jose.GeneralEncrypt(b64u.decode(plaintext)).setProtectedHeader({ enc: 'A256GCM' });
    for (const jwk of jwks) {
      const key = await jose.importJWK(jwk, 'RSA-OAEP-256');
      builder.addRecipient(key).setUnprotectedHeader({ alg: 'RSA-OAEP-256', kid: jwk.kid });
    }
    return { jwe: JSON.stringify(await builder.encrypt()) };
  },
};

const command = commands[process.argv[2]];
if (!command) {
  console.error(`usage: node jose.mjs ${Object.keys(commands).join('|')} < request.json`);
  process.exit(2);
}
try {
  process.stdout.write(JSON.stringify(await command(await readStdin())));
} catch (err) {
  console.error(`jose: ${err.code ?? ''} ${err.message}`);
  process.exit(1);
}
