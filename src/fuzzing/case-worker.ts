/**
 * The worker thread that runs fuzz cases, so the harness can terminate a case that never returns and
 * survive one that exhausts the worker's heap. It builds its own seed inputs (the same list, in the
 * same order, as the main thread asked for) and runs one case per message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createNodeSigner } from '../pki/node-signer.js';
import { mutateCase } from './mutate.js';
import type { CaseOptions } from './run-case.js';
import { fuzzStampEnvironment, runCase } from './run-case.js';
import { builtSeedInputs, corpusSeedInputs } from './seed-inputs.js';
import type { WorkerMessage, WorkerSetup } from './worker-protocol.js';

const setup = workerData as WorkerSetup;
const port = parentPort;
if (port === null) throw new Error('invariant: case-worker.js must run as a worker thread');

const inputs = [
  ...(setup.includeBuilt ? builtSeedInputs() : []),
  ...(setup.corpusDirectory === null
    ? []
    : corpusSeedInputs(setup.corpusDirectory, setup.corpusFileBytesMax)),
];
const environment = fuzzStampEnvironment(createNodeSigner(setup.signer));
const options: CaseOptions = { readerTimeMsMax: setup.readerTimeMsMax, wallMsMax: setup.wallMsMax };

const post = (message: WorkerMessage): void => port.postMessage(message);

port.on('message', (seed: number) => {
  const mutated = mutateCase(seed, inputs);
  post({ type: 'start', seed, source: mutated.source, edits: mutated.edits, bytes: mutated.bytes.length });
  void runCase(mutated.bytes, environment, options).then((result) => {
    post({ type: 'result', seed, result, heapUsedBytes: process.memoryUsage().heapUsed });
  });
});

post({ type: 'ready', inputNames: inputs.map((input) => input.name) });
