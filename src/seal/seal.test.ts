import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { deflateSync, unzlibSync } from 'fflate';
import { isBubuhError } from '../errors.js';
import type { SealDrawing } from './seal.js';
import {
  drawSeal,
  drawSealDeflated,
  drawSealWithModules,
  encodeSealQr,
  formatNumber,
  sealUrlCharactersMax,
  textWidth,
} from './seal.js';
import { checkCharacters, serialAlphabet } from './serial.js';

const serial = 'ZJ3P4LC08I0GDRGE0000A0';
const url = `https://bubuh.example/s/${serial}`;
const decoder = new TextDecoder();

function streamText(drawing: SealDrawing): string {
  return decoder.decode(drawing.content);
}

/** A one-page PDF with the seal at (marginPt, marginPt) over grey stripes, as over a busy document. */
function onePagePdf(drawing: SealDrawing, sizePt: number, marginPt: number): Uint8Array {
  const side = sizePt + 2 * marginPt;
  const stripes: string[] = [];
  for (let y = 0; y < side; y += 4) stripes.push(`0 ${y} ${side} 1 re`);
  const content = `q .75 g ${stripes.join(' ')} f Q\nq 1 0 0 1 ${marginPt} ${marginPt} cm\n${streamText(drawing)}Q\n`;
  const fonts = drawing.resourceFontNames;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${side} ${side}] /Contents 4 0 R ` +
      `/Resources << /Font << /${fonts.regular} 5 0 R /${fonts.bold} 6 0 R >> >> >>`,
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    `<< /Type /Font /Subtype /Type1 /BaseFont /${drawing.fonts.regular} /Encoding /WinAnsiEncoding >>`,
    `<< /Type /Font /Subtype /Type1 /BaseFont /${drawing.fonts.bold} /Encoding /WinAnsiEncoding >>`,
  ];
  let pdf = '%PDF-1.7\n';
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(pdf.length);
    pdf += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(pdf);
}

/** The modules painted by the stream's QR rectangles, each counted once per rectangle covering it. */
function paintedModules(text: string, moduleCount: number): Uint8Array {
  const section = text.slice(text.lastIndexOf('0 g q '));
  const painted = new Uint8Array(moduleCount * moduleCount);
  for (const match of section.matchAll(/^(\d+) (\d+) (\d+) (\d+) re$/gm)) {
    const [x, y, width, height] = match.slice(1, 5).map(Number) as [number, number, number, number];
    for (let row = y; row < y + height; row += 1) {
      for (let column = x; column < x + width; column += 1) painted[row * moduleCount + column]! += 1;
    }
  }
  return painted;
}

function refusalCode(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isBubuhError(error)) return `${error.code} ${JSON.stringify(error.details)}`;
    throw error;
  }
  return 'no error';
}

test('formatNumber writes the fewest characters', () => {
  assert.equal(formatNumber(0.7), '.7');
  assert.equal(formatNumber(1), '1');
  assert.equal(formatNumber(100), '100');
  assert.equal(formatNumber(1.23456), '1.235');
  assert.equal(formatNumber(-0.5), '-.5');
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(0.0004), '0');
  assert.equal(formatNumber(-0.0004), '0');
  assert.equal(formatNumber(96.866), '96.866');
  assert.equal(formatNumber(-12.05), '-12.05');
  assert.equal(formatNumber(0.0306), '.031');
  assert.equal(formatNumber(-999999999.9994), '-999999999.999');
  assert.throws(() => formatNumber(Number.NaN), /seal invariant/);
});

test('property: formatNumber is the shortest text of the number rounded to thousandths', () => {
  const shortest = (value: number) =>
    String(Math.round(value * 1000) / 1000)
      .replace(/^0\./, '.')
      .replace(/^-0\./, '-.');
  fc.assert(
    fc.property(fc.double({ min: -999_999_999, max: 999_999_999, noNaN: true }), (value) => {
      assert.equal(formatNumber(value), shortest(value));
    }),
    { numRuns: 20_000 },
  );
  for (let thousandths = -20_000; thousandths <= 20_000; thousandths += 1) {
    assert.equal(formatNumber(thousandths / 1000), shortest(thousandths / 1000), String(thousandths));
  }
});

test('textWidth uses the AFM advance widths of Helvetica and Helvetica-Bold', () => {
  // Bold: M833 E667 T611 E667 R722 A722 I278 + space 278 + E667 L611 E667 K722 T611 R722 O778 N722 I278 K722.
  assert.equal(textWidth('METERAI ELEKTRONIK', true, 1000), 11278);
  assert.equal(textWidth('10000', true, 1000), 2780);
  // Regular differs from bold on A, B, J, K, L: 667 + 667 + 500 + 667 + 556 = 3057.
  assert.equal(textWidth('ABJKL', false, 1000), 3057);
  assert.equal(textWidth('ABJKL', true, 1000), 3333);
  assert.equal(textWidth('W 1', false, 10), 17.78);
  assert.throws(() => textWidth('a', false, 1), /no width/);
});

test('the seal size must be 40 to 150 pt', () => {
  const range = '"minimum":40,"maximum":150';
  assert.equal(
    refusalCode(() => drawSeal({ serial, url, sizePt: 39.99 })),
    `SEAL_SIZE_INVALID {"sizePt":"39.99",${range}}`,
  );
  assert.equal(
    refusalCode(() => drawSeal({ serial, url, sizePt: 150.01 })),
    `SEAL_SIZE_INVALID {"sizePt":"150.01",${range}}`,
  );
  assert.equal(
    refusalCode(() => drawSeal({ serial, url, sizePt: Number.NaN })),
    `SEAL_SIZE_INVALID {"sizePt":"NaN",${range}}`,
  );
  assert.equal(
    refusalCode(() => drawSeal({ serial, url, sizePt: 40 })),
    'no error',
  );
  assert.equal(
    refusalCode(() => drawSeal({ serial, url, sizePt: 150 })),
    'no error',
  );
});

test('the serial must be a canonical valid serial and the address short printable ASCII', () => {
  assert.equal(
    refusalCode(() => drawSeal({ serial: serial.toLowerCase(), url, sizePt: 70 })),
    'SEAL_SERIAL_INVALID {"serial":"zj3p4lc08i0gdrge0000a0"}',
  );
  assert.equal(
    refusalCode(() => drawSeal({ serial: 'ZJ3P4LC08I0GDRGE0000A1', url, sizePt: 70 })),
    'SEAL_SERIAL_INVALID {"serial":"ZJ3P4LC08I0GDRGE0000A1"}',
  );
  const longest = `https://bubuh.example/s/${'x'.repeat(sealUrlCharactersMax - 24)}`;
  assert.equal(longest.length, 80);
  assert.equal(
    refusalCode(() => drawSeal({ serial, url: longest, sizePt: 70 })),
    'no error',
  );
  assert.equal(
    refusalCode(() => drawSeal({ serial, url: `${longest}x`, sizePt: 70 })),
    'SEAL_URL_INVALID {"limit":80,"length":81}',
  );
  assert.equal(
    refusalCode(() => drawSeal({ serial, url: '', sizePt: 70 })),
    'SEAL_URL_INVALID {"limit":80,"length":0}',
  );
  assert.equal(
    refusalCode(() => drawSeal({ serial, url: 'https://a.example/ s', sizePt: 70 })),
    'SEAL_URL_INVALID {"limit":80,"length":20}',
  );
});

test('the 70 pt seal is deterministic, small, and has the expected bytes', () => {
  const first = drawSeal({ serial, url, sizePt: 70 });
  const second = drawSeal({ serial, url, sizePt: 70 });
  assert.deepEqual(first.content, second.content);
  assert.deepEqual(first.fonts, { regular: 'Helvetica', bold: 'Helvetica-Bold' });
  assert.deepEqual(first.resourceFontNames, { regular: 'SealRegular', bold: 'SealBold' });
  assert.equal(first.content.length, 3124);
  assert.ok(deflateSync(first.content, { level: 9 }).length < 1200);
  const sha256 = createHash('sha256').update(first.content).digest('hex');
  assert.equal(sha256, 'cbc59df77b8c0a525942123e5ea8d69461d6a1761c34b520ed9616c5ba91a0fc');
});

test('the stream scales one design, prints the four texts and only ASCII', () => {
  const text = streamText(drawSeal({ serial, url, sizePt: 40 }));
  assert.ok(text.startsWith('q .4 0 0 .4 0 0 cm\n'));
  assert.ok(text.endsWith('f Q\nQ\n'));
  assert.equal(text.match(/\bq\b/g)?.length, text.match(/\bQ\b/g)?.length);
  for (const shown of [
    'METERAI ELEKTRONIK',
    '10000',
    'SEPULUH',
    'RIBU',
    'RUPIAH',
    'ZJ3P 4LC0 8I0G DRGE 0000 A0',
  ]) {
    assert.ok(text.includes(`(${shown}) Tj`), shown);
  }
  assert.match(text, /^[\x20-\x7e\n]*$/);
  const at150 = streamText(drawSeal({ serial, url, sizePt: 150 }));
  assert.equal(at150.replace('q 1.5 0 0 1.5 0 0 cm', 'q .4 0 0 .4 0 0 cm'), text);
});

test('a wide serial is shrunk to fit the seal', () => {
  const body = 'WWWWWWWWWWWWWWWWWWWW';
  const wide = body + checkCharacters(body);
  const text = streamText(drawSeal({ serial: wide, url, sizePt: 70 }));
  const match = text.match(/BT \/SealRegular ([\d.]+) Tf ([\d.]+) [\d.]+ Td \(W/);
  assert.ok(match);
  const size = Number(match[1]);
  assert.ok(size < 5.5, `size ${size}`);
  assert.ok(Math.abs(Number(match[2]) - 6) < 0.01, `left ${match[2]}`);
});

test('the QR rectangles cover exactly the dark modules, each once', () => {
  const symbol = { modules: encodeSealQr(url) };
  const size = symbol.modules.size;
  const painted = paintedModules(streamText(drawSeal({ serial, url, sizePt: 70 })), size);
  assert.deepEqual(
    painted,
    Uint8Array.from(symbol.modules.data, (bit) => (bit ? 1 : 0)),
  );
});

test('property: for any serial and address the rectangles reproduce the QR matrix', () => {
  const serials = fc
    .array(fc.constantFrom(...serialAlphabet), { minLength: 20, maxLength: 20 })
    .map((characters) => {
      const body = characters.join('');
      return body + checkCharacters(body);
    });
  const paths = fc.stringMatching(/^[\x21-\x7e]{1,62}$/);
  fc.assert(
    fc.property(serials, paths, (serialValue, path) => {
      const address = `https://b.example/${path}`;
      const symbol = { modules: encodeSealQr(address) };
      const text = streamText(drawSeal({ serial: serialValue, url: address, sizePt: 70 }));
      const painted = paintedModules(text, symbol.modules.size);
      assert.deepEqual(
        painted,
        Uint8Array.from(symbol.modules.data, (bit) => (bit ? 1 : 0)),
      );
    }),
    { numRuns: 100 },
  );
});

test('drawSealWithModules draws the same bytes around a given matrix and checks its shape', () => {
  const input = { serial, url, sizePt: 70 };
  const symbol = { modules: encodeSealQr(url) };
  assert.deepEqual(drawSealWithModules(input, symbol.modules).content, drawSeal(input).content);
  assert.throws(() => drawSealWithModules(input, { size: 22, data: new Uint8Array(484) }), /not a QR matrix/);
  assert.throws(() => drawSealWithModules(input, { size: 21, data: new Uint8Array(440) }), /not a QR matrix/);
  assert.throws(
    () => drawSealWithModules(input, { size: 181, data: new Uint8Array(181 * 181) }),
    /not a QR matrix/,
  );
});

/**
 * The rectangles of a matrix, the plain way: each row's dark runs; a rectangle open at a run's start
 * column goes on when the run has its length, and what does not go on closes, left to right.
 */
function referenceRectangles(size: number, data: Uint8Array): string[] {
  const lines: string[] = [];
  let open = new Map<number, { length: number; first: number }>();
  for (let row = 0; row <= size; row += 1) {
    const runs = new Map<number, number>();
    for (let column = 0; row < size && column < size; column += 1) {
      if (data[row * size + column] === 0) continue;
      const start = column;
      while (column < size && data[row * size + column] !== 0) column += 1;
      runs.set(start, column - start);
    }
    const next = new Map<number, { length: number; first: number }>();
    for (const [column, rectangle] of [...open].sort((left, right) => left[0] - right[0])) {
      if (runs.get(column) === rectangle.length) next.set(column, rectangle);
      else lines.push(`${column} ${rectangle.first} ${rectangle.length} ${row - rectangle.first} re`);
    }
    for (const [column, length] of runs) if (!next.has(column)) next.set(column, { length, first: row });
    open = next;
  }
  return lines;
}

test('the rectangles are those of the plain run-merging reference, in its order, at any density', () => {
  const random = (() => {
    let state = 7;
    return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  })();
  for (let round = 0; round < 200; round += 1) {
    const size = 21 + 4 * (round % 40);
    // All light, all dark, sparse, even, dense; entries other than 1 count as dark too.
    const density = [0, 1, 0.1, 0.5, 0.9][round % 5]!;
    const data = Uint8Array.from({ length: size * size }, () => (random() < density ? 1 + (round % 3) : 0));
    const text = streamText(drawSealWithModules({ serial, url, sizePt: 70 }, { size, data }));
    const drawn = [...text.matchAll(/^\d+ \d+ \d+ \d+ re$/gm)].map((match) => match[0]);
    assert.deepEqual(drawn, referenceRectangles(size, data), `round ${round}, ${size} modules`);
  }
});

test('the worst matrix, a 177 × 177 checkerboard, fits the stream bound and is reproduced', () => {
  const size = 177;
  const data = Uint8Array.from({ length: size * size }, (_, index) =>
    ((index % size) + Math.floor(index / size)) % 2 ? 0 : 1,
  );
  const text = streamText(drawSealWithModules({ serial, url, sizePt: 70 }, { size, data }));
  // Even rows have 89 one-module runs, odd rows 88, and no run continues into the next row.
  assert.equal(text.match(/ re\n/g)?.length, 89 * 89 + 88 * 88);
  assert.deepEqual(paintedModules(text, size), data);
});

function missingTool(name: string): boolean {
  try {
    execFileSync(name, ['-v'], { stdio: 'ignore' });
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

test('the rendered seal scans back to the exact address at 40, 70 and 150 pt', (t) => {
  for (const tool of ['pdftoppm', 'zbarimg']) {
    if (missingTool(tool)) return t.skip(`${tool} is not installed (poppler-utils / zbar-tools)`);
  }
  const directory = mkdtempSync(join(tmpdir(), 'bubuh-seal-'));
  try {
    const longest = `https://bubuh.example/s/${serial}?${'v'.repeat(sealUrlCharactersMax - 47)}`;
    const cases: Array<[number, string]> = [
      [40, url],
      [70, url],
      [150, url],
      [40, longest],
    ];
    for (const [sizePt, address] of cases) {
      const pdfPath = join(directory, `seal-${sizePt}.pdf`);
      writeFileSync(pdfPath, onePagePdf(drawSeal({ serial, url: address, sizePt }), sizePt, 10));
      execFileSync('pdftoppm', [
        '-png',
        '-r',
        '300',
        '-singlefile',
        pdfPath,
        join(directory, `seal-${sizePt}`),
      ]);
      const decoded = execFileSync('zbarimg', ['--raw', '-q', join(directory, `seal-${sizePt}.png`)]);
      assert.equal(decoded.toString('utf8'), `${address}\n`, `${sizePt} pt, ${address.length} characters`);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('drawSealDeflated inflates to exactly the drawn stream, for random serials at every size', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...serialAlphabet), { minLength: 20, maxLength: 20 }),
      fc.integer({ min: 400, max: 1500 }),
      (characters, tenths) => {
        const body = characters.join('');
        const sealSerial = body + checkCharacters(body);
        const input = {
          serial: sealSerial,
          url: `https://meterai.example.id/s/${sealSerial}`,
          sizePt: tenths / 10,
        };
        const modules = encodeSealQr(input.url);
        const drawn = drawSealWithModules(input, modules).content;
        const deflated = drawSealDeflated(input, modules).deflated;
        assert.deepEqual(unzlibSync(deflated), drawn);
        // Within 5 % of what zlib's fastest level makes of the whole stream.
        assert.ok(deflated.length < 1.05 * deflateSync(drawn, { level: 1 }).length);
      },
    ),
    { numRuns: 60, seed: 42 },
  );
});
