/**
 * Test-only: verdicts on a stamped file from implementations we did not write. Each function runs one
 * tool and asserts what a correct stamp must produce; the caller checks `toolSkipReason` first.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Raster, parsePpm } from './raster.js';
import { runTool } from './tools.js';

function output(result: { stdout: string; stderr: string }): string {
  return `${result.stdout}${result.stderr}`;
}

/** `qpdf --check` exits 0 and prints no warning. */
export async function assertQpdfClean(path: string, password?: string, timeoutMs?: number): Promise<void> {
  const args = ['--check', ...(password === undefined ? [] : [`--password=${password}`]), path];
  const result = await runTool('qpdf', args, timeoutMs);
  assert.equal(result.status, 0, `qpdf --check ${path}:\n${output(result)}`);
  assert.doesNotMatch(output(result), /WARNING/i, `qpdf --check ${path} warns`);
}

/**
 * qpdf reads every object and cross-reference section and writes the file to /dev/null, keeping
 * stream data as it is: exit 0 and no warning. The structural part of `--check`, without decoding.
 */
export async function assertQpdfRewrites(path: string): Promise<void> {
  const args = ['--decode-level=none', '--stream-data=preserve', path, '/dev/null'];
  const result = await runTool('qpdf', args);
  assert.equal(result.status, 0, `qpdf ${args.join(' ')}:\n${output(result)}`);
  assert.doesNotMatch(output(result), /WARNING/i, `qpdf ${args.join(' ')} warns`);
}

export interface PdfsigSignature {
  readonly fieldName: string;
  readonly validation: string;
  readonly signingTime: string;
  readonly subFilter: string;
}

/** Every signature poppler finds, with its field name and "Signature Validation" verdict. */
export async function pdfsigSignatures(path: string): Promise<PdfsigSignature[]> {
  const result = await runTool('pdfsig', [path]);
  assert.equal(result.status, 0, `pdfsig ${path}:\n${output(result)}`);
  const blocks = result.stdout.split(/^Signature #\d+:$/m).slice(1);
  const field = (block: string, name: string) =>
    new RegExp(`^\\s+- ${name}: (.*)$`, 'm').exec(block)?.[1]?.trim() ?? '';
  return blocks.map((block) => ({
    fieldName: field(block, 'Signature Field Name'),
    validation: field(block, 'Signature Validation'),
    signingTime: field(block, 'Signing Time'),
    subFilter: field(block, 'Signature Type'),
  }));
}

/** pdfsig finds `count` signatures and reports each one "Signature is Valid.". */
export async function assertPdfsigAllValid(path: string, count: number): Promise<PdfsigSignature[]> {
  const signatures = await pdfsigSignatures(path);
  assert.equal(signatures.length, count, `pdfsig ${path}: number of signatures`);
  for (const signature of signatures) {
    assert.equal(signature.validation, 'Signature is Valid.', `pdfsig ${path}: ${signature.fieldName}`);
  }
  return signatures;
}

/**
 * MuPDF's verdict on the signature of the widget numbered `widgetObjectNumber`. Its certificate line is
 * not asserted: mutool cannot be told our root, so it always reports a certificate error.
 */
export async function mutoolVerdict(path: string, widgetObjectNumber: number): Promise<string> {
  const result = await runTool('mutool', ['sign', '-v', path]);
  assert.equal(result.status, 0, `mutool sign -v ${path}:\n${output(result)}`);
  const blocks = result.stdout.split(/^Verifying signature /m).slice(1);
  const ours = blocks.find((block) => block.startsWith(`${widgetObjectNumber}:`));
  assert.ok(ours !== undefined, `mutool lists signature ${widgetObjectNumber}:\n${result.stdout}`);
  const verdict = ours.split('\n').find((line) => /signing\.$/.test(line.trim()));
  return verdict?.trim() ?? ours;
}

/** Renders one page with pdftoppm (CropBox, rotation applied) and parses the PPM it writes. */
export async function renderPage(
  path: string,
  pageNumber: number,
  directory: string,
  name: string,
  password?: string,
  timeoutMs?: number,
): Promise<Raster> {
  const prefix = join(directory, name);
  const page = String(pageNumber);
  const passwordArgs = password === undefined ? [] : ['-upw', password];
  const args = ['-r', '36', '-cropbox', '-f', page, '-l', page, '-singlefile', ...passwordArgs, path, prefix];
  const result = await runTool('pdftoppm', args, timeoutMs);
  assert.equal(result.status, 0, `pdftoppm ${path}:\n${output(result)}`);
  return parsePpm(new Uint8Array(readFileSync(`${prefix}.ppm`)));
}

/** Renders a crop at 200 dpi as PNG and returns what zbar decodes from it (raw, no type prefix). */
export async function decodeQrInCrop(
  path: string,
  pageNumber: number,
  crop: { readonly left: number; readonly top: number; readonly width: number; readonly height: number },
  directory: string,
  name: string,
): Promise<string> {
  const prefix = join(directory, name);
  const page = String(pageNumber);
  const geometry = ['-x', crop.left, '-y', crop.top, '-W', crop.width, '-H', crop.height].map(String);
  const rendered = await runTool('pdftoppm', [
    '-r',
    '200',
    '-cropbox',
    '-f',
    page,
    '-l',
    page,
    '-singlefile',
    '-png',
    ...geometry,
    path,
    prefix,
  ]);
  assert.equal(rendered.status, 0, `pdftoppm ${path}:\n${output(rendered)}`);
  const decoded = await runTool('zbarimg', ['--raw', '-q', `${prefix}.png`]);
  assert.equal(decoded.status, 0, `zbarimg found no symbol in the seal of ${path}:\n${output(decoded)}`);
  return decoded.stdout.replace(/\n$/, '');
}
