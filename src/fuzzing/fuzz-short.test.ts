/**
 * The short deterministic fuzz round CI runs: fixed seeds, in this process, on the PDFs built in code
 * (and on the corpus when it is present). Every case must end stamped or refused with a BubuhError;
 * a longer, protected run is `npm run fuzz:pdf`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateDevPki } from '../pki/dev-pki.js';
import { createNodeSigner } from '../pki/node-signer.js';
import { corpusDirectory, corpusSkipReason } from '../testing/corpus.js';
import type { SeedInput } from './mutate.js';
import { defaultCaseOptions, fuzzStampEnvironment } from './run-case.js';
import { caseSeeds, runInProcess } from './runner.js';
import { builtSeedInputs, corpusSeedInputs } from './seed-inputs.js';
import { formatFailure } from './tally.js';

const casesPerRound = 300;
const pki = await generateDevPki();
const environment = fuzzStampEnvironment(
  createNodeSigner({
    privateKeyPem: pki.signer.privateKeyPem,
    certificate: pki.signer.certificate,
    chain: [pki.issuingCa.certificate],
  }),
);

async function round(runSeed: number, inputs: readonly SeedInput[]) {
  const tally = await runInProcess(
    caseSeeds(runSeed, casesPerRound),
    inputs,
    environment,
    defaultCaseOptions,
  );
  assert.equal(tally.cases, casesPerRound);
  assert.deepEqual(tally.failures.map(formatFailure), []);
  return tally;
}

test('fuzz: 300 mutated code-built PDFs are each stamped or refused with a BubuhError', async () => {
  const tally = await round(20250102, builtSeedInputs());
  // The round must exercise both ends of the contract, or the mutators have stopped biting.
  assert.ok(tally.count('stamped') >= 50, `stamped ${tally.count('stamped')}`);
  assert.ok(tally.count('refused') >= 50, `refused ${tally.count('refused')}`);
  assert.ok(tally.normalised >= 10, `normalised ${tally.normalised}`);
  assert.ok((tally.byCode.get('PDF_DAMAGED') ?? 0) >= 20, JSON.stringify([...tally.byCode]));
});

test('fuzz: 300 mutated corpus and code-built PDFs are each stamped or refused with a BubuhError', async (t) => {
  const directory = corpusDirectory();
  if (directory === null) {
    t.skip(corpusSkipReason);
    return;
  }
  const tally = await round(20250103, [...builtSeedInputs(), ...corpusSeedInputs(directory)]);
  assert.ok(tally.count('stamped') >= 50, `stamped ${tally.count('stamped')}`);
  assert.ok(tally.count('refused') >= 50, `refused ${tally.count('refused')}`);
});
