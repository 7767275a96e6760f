// The other side of tests/pow.rs: npm `altcha-lib`'s v1 (the protocol the collector speaks)
// solves and verifies a challenge the collector issued, and makes a challenge with the
// collector's key as any ALTCHA server would. Prints one line of JSON.
//
//   node interop.mjs verify KEY < challenge.json
//     → {"verified": bool, "verifiedWithAnotherKey": bool, "payload": "<base64>"}
//   node interop.mjs create KEY MAXNUMBER
//     → {"challenge": {...}, "payload": "<base64>"}
import { createChallenge, solveChallenge, verifySolution } from 'altcha-lib/v1';

const [mode, hmacKey, maxnumber] = process.argv.slice(2);

/** Solves `challenge` with altcha-lib and returns what ALTCHA's widget would send. */
async function solve(challenge) {
  const { promise } = solveChallenge(
    challenge.challenge,
    challenge.salt,
    challenge.algorithm,
    challenge.maxnumber,
  );
  const solution = await promise;
  if (!solution) {
    throw new Error('altcha-lib found no number for the challenge');
  }
  // The widget's payload: the challenge with the number, and how long it took.
  const payload = {
    algorithm: challenge.algorithm,
    challenge: challenge.challenge,
    number: solution.number,
    salt: challenge.salt,
    signature: challenge.signature,
    took: solution.took,
  };
  return btoa(JSON.stringify(payload));
}

if (mode === 'verify') {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  const challenge = JSON.parse(Buffer.concat(chunks).toString());
  const payload = await solve(challenge);
  const verified = await verifySolution(payload, hmacKey);
  const verifiedWithAnotherKey = await verifySolution(payload, `${hmacKey}, but another`);
  console.log(JSON.stringify({ verified, verifiedWithAnotherKey, payload }));
} else if (mode === 'create') {
  const challenge = await createChallenge({
    hmacKey,
    maxnumber: Number(maxnumber),
    expires: new Date(Date.now() + 10 * 60 * 1000),
  });
  console.log(JSON.stringify({ challenge, payload: await solve(challenge) }));
} else {
  throw new Error(`unknown mode ${mode}: verify or create`);
}
