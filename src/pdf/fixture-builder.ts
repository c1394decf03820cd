/**
 * Test-only: builds small PDF files in code (classic tables, xref streams, hybrid files, object
 * streams, incremental updates), so the reader's tests do not depend on the corpus. Offsets are
 * computed, never hand-counted.
 */
import { zlibSync } from 'fflate';

export interface FixtureObject {
  readonly number: number;
  readonly generation?: number;
  /** What stands between `N G obj` and `endobj`; strings are Latin-1. */
  readonly body: string | Uint8Array;
}

export interface FixtureSpec {
  readonly version?: string;
  /** Bytes before `%PDF-` (leading garbage). */
  readonly prefix?: string;
  readonly objects: readonly FixtureObject[];
  /** Objects stored in one object stream numbered `objectStreamNumber`. */
  readonly compressed?: readonly FixtureObject[];
  readonly objectStreamNumber?: number;
  readonly xref?: 'table' | 'stream' | 'hybrid';
  /** The two bytes ending each classic entry (`\r\n`, ` \n`) or a variant (`\n` gives 19-byte entries). */
  readonly entryEnding?: string;
  /** Trailer entries, e.g. `/Root 1 0 R`. */
  readonly trailer: string;
  /** Encode the xref stream with the PNG Up predictor. */
  readonly predictor?: boolean;
  /** Append as an incremental update to this file. */
  readonly base?: Uint8Array;
}

export const latin1Bytes = (text: string): Uint8Array =>
  Uint8Array.from(text, (character) => character.charCodeAt(0));

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const output = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    output.set(part, offset);
    offset += part.length;
  }
  return output;
}

/** A stream object body: `<<dict /Length n>> stream ... endstream`. */
export function streamBody(
  dictEntries: string,
  data: Uint8Array,
  length: number | string = data.length,
): Uint8Array {
  return concatBytes([
    latin1Bytes(`<< ${dictEntries} /Length ${length} >>\nstream\n`),
    data,
    latin1Bytes('\nendstream'),
  ]);
}

function objectBytes(object: FixtureObject): Uint8Array {
  const body = typeof object.body === 'string' ? latin1Bytes(object.body) : object.body;
  return concatBytes([
    latin1Bytes(`${object.number} ${object.generation ?? 0} obj\n`),
    body,
    latin1Bytes('\nendobj\n'),
  ]);
}

function objectStreamBody(objects: readonly FixtureObject[]): Uint8Array {
  const bodies = objects.map((object) => (typeof object.body === 'string' ? object.body : ''));
  let offset = 0;
  const pairs: string[] = [];
  for (const [index, object] of objects.entries()) {
    pairs.push(`${object.number} ${offset}`);
    offset += bodies[index]!.length + 1;
  }
  const header = `${pairs.join(' ')} `;
  const data = zlibSync(latin1Bytes(header + bodies.join('\n') + '\n'));
  return streamBody(`/Type /ObjStm /N ${objects.length} /First ${header.length} /Filter /FlateDecode`, data);
}

function previousStartxref(base: Uint8Array): number {
  const tail = new TextDecoder('latin1').decode(base.subarray(Math.max(0, base.length - 64)));
  const match = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail);
  if (match === null) throw new Error('invariant: fixture base has no startxref');
  return Number(match[1]);
}

type Row = [number, number, number];

function xrefStreamObject(
  number: number,
  rows: Map<number, Row>,
  trailer: string,
  predictor: boolean,
): Uint8Array {
  const numbers = [...rows.keys()].sort((a, b) => a - b);
  const index: number[] = [];
  for (const objectNumber of numbers) {
    const last = index.length - 2;
    if (last >= 0 && index[last]! + index[last + 1]! === objectNumber) index[last + 1]! += 1;
    else index.push(objectNumber, 1);
  }
  const rowBytes = 7;
  const raw = new Uint8Array(numbers.length * rowBytes);
  for (const [position, objectNumber] of numbers.entries()) {
    const [type, second, third] = rows.get(objectNumber)!;
    const row = [
      type,
      second >>> 24,
      (second >>> 16) & 255,
      (second >>> 8) & 255,
      second & 255,
      third >> 8,
      third & 255,
    ];
    raw.set(row, position * rowBytes);
  }
  let data = raw;
  let parameters = '';
  if (predictor) {
    // PNG Up: each row stores its difference from the row above, after a filter-type byte 2.
    data = new Uint8Array(numbers.length * (rowBytes + 1));
    for (let row = 0; row < numbers.length; row += 1) {
      data[row * (rowBytes + 1)] = 2;
      for (let column = 0; column < rowBytes; column += 1) {
        const above = row > 0 ? raw[(row - 1) * rowBytes + column]! : 0;
        data[row * (rowBytes + 1) + 1 + column] = (raw[row * rowBytes + column]! - above) & 255;
      }
    }
    parameters = ` /DecodeParms << /Predictor 12 /Columns ${rowBytes} >>`;
  }
  const size = Math.max(...numbers) + 1;
  const dict = `/Type /XRef /Size ${size} /W [1 4 2] /Index [${index.join(' ')}] /Filter /FlateDecode${parameters} ${trailer}`;
  return objectBytes({ number, body: streamBody(dict, zlibSync(data)) });
}

function classicTable(rows: Map<number, Row>, ending: string): string {
  const numbers = [...rows.keys()].sort((a, b) => a - b);
  let text = 'xref\n';
  let position = 0;
  while (position < numbers.length) {
    let end = position + 1;
    while (end < numbers.length && numbers[end] === numbers[end - 1]! + 1) end += 1;
    text += `${numbers[position]} ${end - position}\n`;
    for (let index = position; index < end; index += 1) {
      const [type, offset, generation] = rows.get(numbers[index]!)!;
      const kind = type === 1 ? 'n' : 'f';
      text += `${String(offset).padStart(10, '0')} ${String(generation).padStart(5, '0')} ${kind}${ending}`;
    }
    position = end;
  }
  return text;
}

/** Builds a complete file, or an incremental update appended to `spec.base`. */
export function buildPdf(spec: FixtureSpec): Uint8Array {
  const parts: Uint8Array[] = [];
  let length = 0;
  const write = (part: Uint8Array): void => {
    parts.push(part);
    length += part.length;
  };
  const headerShift = spec.base === undefined ? (spec.prefix?.length ?? 0) : 0;
  if (spec.base === undefined) {
    write(latin1Bytes(`${spec.prefix ?? ''}%PDF-${spec.version ?? '1.4'}\n%\xe2\xe3\xcf\xd3\n`));
  } else {
    write(spec.base);
  }
  const rows = new Map<number, Row>();
  if (spec.base === undefined) rows.set(0, [0, 0, 65535]);
  for (const object of spec.objects) {
    rows.set(object.number, [1, length - headerShift, object.generation ?? 0]);
    write(objectBytes(object));
  }
  const streamNumber = spec.objectStreamNumber ?? 0;
  const hiddenRows = new Map<number, Row>();
  if (spec.compressed !== undefined) {
    rows.set(streamNumber, [1, length - headerShift, 0]);
    write(objectBytes({ number: streamNumber, body: objectStreamBody(spec.compressed) }));
    for (const [index, object] of spec.compressed.entries())
      hiddenRows.set(object.number, [2, streamNumber, index]);
  }
  const previous = spec.base === undefined ? '' : ` /Prev ${previousStartxref(spec.base)}`;
  const allNumbers = [...rows.keys(), ...hiddenRows.keys()];
  const kind = spec.xref ?? 'table';
  if (kind === 'stream') {
    const xrefNumber = Math.max(...allNumbers) + 1;
    for (const [number, row] of hiddenRows) rows.set(number, row);
    rows.set(xrefNumber, [1, length - headerShift, 0]);
    const startxref = length - headerShift;
    write(xrefStreamObject(xrefNumber, rows, `${spec.trailer}${previous}`, spec.predictor ?? false));
    write(latin1Bytes(`startxref\n${startxref}\n%%EOF\n`));
    return concatBytes(parts);
  }
  let hidden = '';
  let size = Math.max(...allNumbers) + 1;
  if (kind === 'hybrid') {
    // The table marks the compressed objects free; only the /XRefStm stream knows where they are.
    for (const number of hiddenRows.keys()) rows.set(number, [0, 0, 1]);
    const hiddenOffset = length - headerShift;
    write(xrefStreamObject(size, hiddenRows, '', spec.predictor ?? false));
    rows.set(size, [1, hiddenOffset, 0]);
    hidden = ` /XRefStm ${hiddenOffset}`;
    size += 1;
  }
  const startxref = length - headerShift;
  const table = classicTable(rows, spec.entryEnding ?? '\r\n');
  write(
    latin1Bytes(
      `${table}trailer\n<< /Size ${size} ${spec.trailer}${previous}${hidden} >>\nstartxref\n${startxref}\n%%EOF\n`,
    ),
  );
  return concatBytes(parts);
}

/** A minimal valid one-page document, used by many tests. */
export function minimalPdf(
  pageEntries = '/MediaBox [0 0 612 792]',
  spec: Partial<FixtureSpec> = {},
): Uint8Array {
  return buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>' },
      { number: 3, body: `<< /Type /Page /Parent 2 0 R ${pageEntries} /Contents 4 0 R >>` },
      { number: 4, body: streamBody('', latin1Bytes('0 0 m 100 100 l S')) },
    ],
    trailer: '/Root 1 0 R',
    ...spec,
  });
}

/**
 * A one-page document with a widget annotation at `rect` whose appearance is an upright 'F' in a
 * frame, drawn in [0 0 size size] and placed with `matrix`: rendered, it shows whether a placement
 * appears where and how a person expects on a rotated or offset page.
 */
export function sealPreviewPdf(options: {
  readonly pageEntries: string;
  readonly rect: readonly number[];
  readonly matrix: readonly number[];
  readonly sizePt: number;
}): Uint8Array {
  const size = options.sizePt;
  const unit = size / 10;
  const glyph = [
    `0 0 1 RG ${unit / 2} w ${unit / 4} ${unit / 4} ${size - unit / 2} ${size - unit / 2} re S`,
    `1 0 0 rg ${unit * 3} ${unit * 2} ${unit * 1.5} ${unit * 6} re f`,
    `${unit * 3} ${unit * 7} ${unit * 4.5} ${unit} re f`,
    `${unit * 3} ${unit * 4.5} ${unit * 3} ${unit} re f`,
  ].join('\n');
  const appearance = streamBody(
    `/Type /XObject /Subtype /Form /BBox [0 0 ${size} ${size}] /Matrix [${options.matrix.join(' ')}]`,
    latin1Bytes(glyph),
  );
  return buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>' },
      {
        number: 3,
        body: `<< /Type /Page /Parent 2 0 R ${options.pageEntries} /Annots [5 0 R] /Contents 4 0 R >>`,
      },
      { number: 4, body: streamBody('', latin1Bytes('0.8 g -2000 -2000 4000 4000 re f')) },
      {
        number: 5,
        body: `<< /Type /Annot /Subtype /Widget /FT /Sig /T (seal) /F 4 /Rect [${options.rect.join(' ')}] /AP << /N 6 0 R >> >>`,
      },
      { number: 6, body: appearance },
    ],
    trailer: '/Root 1 0 R',
  });
}
