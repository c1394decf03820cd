/**
 * `npm run fuzz:pdf` — mutates PDFs (the shared corpus when present, always a set built in code) and
 * stamps each one in a worker thread. Every input must end in a stamped file that re-opens, or in a
 * typed refusal (BubuhError), within 2 s; a crash, a hang (5 s), an out-of-memory worker or a slow
 * case is a failure, printed with the seed and edits that replay it. Prints progress, a table of
 * outcomes and, as its last line, one JSON object; exits 1 when there was any failure.
 *
 *   node dist/bench/fuzz-pdf.js [--seconds N | --cases N] [--seed S] [--replay S] [--corpus DIR]
 *                               [--no-built] [--dump DIR]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mutateCase } from '../src/fuzzing/mutate.js';
import { defaultCaseOptions } from '../src/fuzzing/run-case.js';
import { caseSeeds, defaultWorkerLimits, runInWorkers } from '../src/fuzzing/runner.js';
import { builtSeedInputs, corpusFileBytesMax, corpusSeedInputs } from '../src/fuzzing/seed-inputs.js';
import type { Failure, Tally } from '../src/fuzzing/tally.js';
import { formatFailure, outcomeClasses } from '../src/fuzzing/tally.js';
import type { WorkerSetup } from '../src/fuzzing/worker-protocol.js';
import { generateDevPki } from '../src/pki/dev-pki.js';
import { corpusDirectory } from '../src/testing/corpus.js';

const secondsDefault = 20;
const progressEveryMs = 5000;

function integerOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0) throw new Error(`--${name} needs a non-negative integer`);
  return number;
}

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      cases: { type: 'string' },
      seed: { type: 'string' },
      replay: { type: 'string' },
      corpus: { type: 'string' },
      'no-built': { type: 'boolean', default: false },
      dump: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const seed = integerOption(values.seed, 'seed') ?? Math.floor(Math.random() * 2 ** 32);
  if (seed > 0xffffffff) throw new Error('--seed must fit in 32 bits');
  return {
    seed,
    seconds: integerOption(values.seconds, 'seconds'),
    cases: integerOption(values.cases, 'cases'),
    replay: integerOption(values.replay, 'replay'),
    corpus: values.corpus === undefined ? corpusDirectory() : resolve(values.corpus),
    includeBuilt: !values['no-built'],
    dump: values.dump,
    verbose: values.verbose,
  };
}

function printTable(tally: Tally, elapsedS: number): void {
  console.log(
    `\n${tally.cases} cases in ${elapsedS.toFixed(1)} s (${(tally.cases / elapsedS).toFixed(0)}/s)`,
  );
  console.log('outcome          cases   share');
  for (const outcome of outcomeClasses) {
    const count = tally.count(outcome);
    const share = tally.cases === 0 ? 0 : (100 * count) / tally.cases;
    console.log(`${outcome.padEnd(15)} ${String(count).padStart(6)}  ${share.toFixed(1).padStart(5)} %`);
  }
  console.log(`  of which stamped after normalising: ${tally.normalised}`);
  console.log('refusal code                      cases');
  for (const [code, count] of [...tally.byCode].sort((a, b) => b[1] - a[1])) {
    console.log(`${code.padEnd(32)} ${String(count).padStart(6)}`);
  }
  const meanMs = tally.cases === 0 ? 0 : tally.elapsedMsTotal / tally.cases;
  console.log(`stamp time: mean ${meanMs.toFixed(1)} ms, max ${tally.elapsedMsMax.toFixed(0)} ms`);
}

async function main(): Promise<void> {
  const options = parseCommandLine();
  const pki = await generateDevPki();
  const setup: WorkerSetup = {
    corpusDirectory: options.corpus,
    corpusFileBytesMax,
    includeBuilt: options.includeBuilt,
    signer: {
      privateKeyPem: pki.signer.privateKeyPem,
      certificate: pki.signer.certificate,
      chain: [pki.issuingCa.certificate],
    },
    readerTimeMsMax: defaultCaseOptions.readerTimeMsMax,
    wallMsMax: defaultCaseOptions.wallMsMax,
  };
  const replaying = options.replay !== undefined;
  const seconds = options.cases === undefined ? (options.seconds ?? secondsDefault) : undefined;
  const started = performance.now();
  let lastProgressMs = started;
  console.log(
    replaying
      ? `fuzz:pdf replaying case seed ${options.replay}`
      : `fuzz:pdf seed ${options.seed}, ${seconds === undefined ? `${options.cases} cases` : `${seconds} s`}`,
  );
  console.log(`corpus: ${options.corpus ?? '(absent: code-built seeds only)'}`);
  const dump = (failure: Failure): void => {
    if (options.dump === undefined) return;
    mkdirSync(options.dump, { recursive: true });
    const inputs = [
      ...(options.includeBuilt ? builtSeedInputs() : []),
      ...(options.corpus === null ? [] : corpusSeedInputs(options.corpus)),
    ];
    writeFileSync(join(options.dump, `case-${failure.seed}.pdf`), mutateCase(failure.seed, inputs).bytes);
  };
  const tally = await runInWorkers({
    setup,
    limits: defaultWorkerLimits,
    seeds: replaying ? [options.replay!] : caseSeeds(options.seed, options.cases ?? Number.POSITIVE_INFINITY),
    ...(seconds === undefined ? {} : { deadlineMs: started + seconds * 1000 }),
    onReady: (names) =>
      console.log(
        `seed inputs: ${names.length} (${names.filter((name) => name.startsWith('built:')).length} built in code)`,
      ),
    ...(options.verbose ? { onStart: (seed: number) => console.log(`  case ${seed}`) } : {}),
    onFailure: (failure) => {
      console.log(formatFailure(failure));
      dump(failure);
    },
    onCase: (current) => {
      const now = performance.now();
      if (now - lastProgressMs < progressEveryMs) return;
      lastProgressMs = now;
      const { cases } = current;
      console.log(
        `  ${((now - started) / 1000).toFixed(0)} s: ${cases} cases, ${current.count('stamped')} stamped, ${current.count('refused')} refused, ${current.failures.length} failures`,
      );
    },
  });
  if (replaying && tally.failures.length === 0) {
    console.log(
      `case ${options.replay}: ${[...tally.byClass]
        .filter(([, count]) => count > 0)
        .map(([name]) => name)
        .join(', ')} ${[...tally.byCode.keys()].join(', ')}`,
    );
  }
  printTable(tally, (performance.now() - started) / 1000);
  const summary = {
    fuzz: 'pdf',
    cases: tally.cases,
    stamped: tally.count('stamped'),
    refused: tally.count('refused'),
    failures: tally.failures.length,
    seed: replaying ? options.replay : options.seed,
  };
  console.log(JSON.stringify(summary));
  process.exitCode = tally.failures.length > 0 ? 1 : 0;
}

await main();
