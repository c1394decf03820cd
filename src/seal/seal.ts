/**
 * The visible e-meterai seal as a PDF content stream: vector only, standard-14 fonts only, so a stamped
 * document grows by a few kilobytes. The drawing is laid out once in a 100 × 100 design box and scaled to
 * the requested size with one `cm`, which keeps the stream identical in shape at every size and lets the
 * fixed part be built once when the module loads.
 *
 * Pure: text in, bytes out. The caller compresses the stream and declares the two fonts in the resources
 * of whatever holds it (usually the signature widget's appearance XObject).
 */
import QRCode from 'qrcode';
import { same } from '../branch-free.js';
import { BubuhError } from '../errors.js';
import { type DeflatedHead, deflateHead, SplitDeflater } from '../pdf/deflate.js';
import { encodeWithTemplate, fastQrVersion, type QrTemplate, templateFrom } from './qr-fast.js';
import { isValidSerial } from './serial.js';

export const sealSizePtMinimum = 40;
export const sealSizePtMaximum = 150;
/** Longer addresses need a QR version whose modules become too small to scan on a 40 pt seal. */
export const sealUrlCharactersMax = 80;

export interface SealInput {
  readonly serial: string;
  readonly url: string;
  readonly sizePt: number;
}

export interface SealFonts {
  readonly regular: 'Helvetica';
  readonly bold: 'Helvetica-Bold';
}

export interface SealResourceFontNames {
  readonly regular: 'SealRegular';
  readonly bold: 'SealBold';
}

export interface SealDrawing {
  /** Uncompressed content stream drawing the seal in [0 0 sizePt sizePt]. */
  readonly content: Uint8Array;
  /** BaseFont of each font; declare them with /Encoding /WinAnsiEncoding. */
  readonly fonts: SealFonts;
  /** The names the stream uses in `/Font` of its resources. */
  readonly resourceFontNames: SealResourceFontNames;
}

const fonts: SealFonts = Object.freeze({ regular: 'Helvetica', bold: 'Helvetica-Bold' });
const resourceFontNames: SealResourceFontNames = Object.freeze({ regular: 'SealRegular', bold: 'SealBold' });

/**
 * Advance widths (1/1000 em) from the Adobe AFM files of the two fonts, for the characters the seal
 * prints: space, digits and capitals. Each string lists the widths of ` 0-9A-Z` in that order.
 */
const widthCharacters = ' 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const helveticaWidths = [
  278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500,
  667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611,
];
const helveticaBoldWidths = [
  278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556,
  722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611,
];

/** Width of `text` in design units at `sizeUnits`; every character must be in the width table. */
export function textWidth(text: string, bold: boolean, sizeUnits: number): number {
  const widths = bold ? helveticaBoldWidths : helveticaWidths;
  let total = 0;
  for (let index = 0; index < text.length; index += 1) {
    const width = widths[widthCharacters.indexOf(text.charAt(index))];
    if (width === undefined)
      throw new Error(`seal invariant: no width for ${JSON.stringify(text.charAt(index))}`);
    total += width;
  }
  return (total * sizeUnits) / 1000;
}

/**
 * A PDF number with the fewest characters: at most 3 decimals, no trailing zeros, no leading zero. Three
 * decimals of the 1/100 scale place the seal's edge within 0.05 pt of the requested size.
 */
export function formatNumber(value: number): string {
  if (!(Math.abs(value) < 1e9)) throw new Error(`seal invariant: ${value} is not a plain finite number`);
  // The digits of the rounded thousandths, written from integers: what `String` prints for
  // `thousandths / 1000` (the shortest decimal that reads back as that number, no other decimal of
  // three places being as near), without its leading zero and its trailing ones — and without the
  // general number-to-text conversion, which cost a microsecond for the serial's three numbers.
  const thousandths = Math.round(value * 1000);
  const magnitude = Math.abs(thousandths);
  const whole = Math.floor(magnitude / 1000);
  const fraction = magnitude - whole * 1000;
  const sign = thousandths < 0 ? '-' : '';
  if (fraction === 0) return whole === 0 ? '0' : sign + String(whole);
  const digits =
    fraction % 100 === 0
      ? String(fraction / 100)
      : fraction % 10 === 0
        ? String(fraction / 10).padStart(2, '0')
        : String(fraction).padStart(3, '0');
  return `${sign}${whole === 0 ? '' : String(whole)}.${digits}`;
}

function numbers(...values: number[]): string {
  return values.map(formatNumber).join(' ');
}

/** Where everything sits in the 100 × 100 design box (y grows upwards, as in PDF). */
const layout = {
  cornerRadius: 7,
  /** The coloured frame's width on the left, right and bottom; the top is the title band. */
  frame: 3.5,
  bandBottom: 84,
  panelRadius: 4,
  brandColour: '.05 .32 .42',
  textColour: '.13 .13 .13',
  title: { text: 'METERAI ELEKTRONIK', sizeUnits: 7, baseline: 89.5 },
  /** The QR code with its quiet zone, flush with the top-left corner of the white panel. */
  qr: { left: 3.5, top: 84, side: 62, quietModules: 4 },
  /** A white hairline inside the coloured frame, as on printed revenue stamps. */
  innerLine: { inset: 1.5, radius: 5.5, widthUnits: 0.4 },
  value: { text: '10000', sizeUnits: 10, baseline: 65, centre: 81 },
  valueRule: { left: 69, right: 93, y: 60.5, widthUnits: 0.6 },
  words: { lines: ['SEPULUH', 'RIBU', 'RUPIAH'], sizeUnits: 5.2, baseline: 51, leading: 7.3, centre: 81 },
  serialRule: { left: 10, right: 90, y: 18.5, widthUnits: 0.4 },
  serial: { sizeUnitsMax: 5.5, widthMax: 88, baseline: 10, centre: 50, groupLength: 4 },
} as const;

/** The four Bézier quarter-circles of a rounded rectangle, as a closed path. */
function roundedRectangle(left: number, bottom: number, right: number, top: number, radius: number): string {
  const handle = radius * 0.4477; // 1 − 0.5523, the control-point offset of a quarter circle
  return [
    `${numbers(left + radius, bottom)} m`,
    `${numbers(right - radius, bottom)} l`,
    `${numbers(right - handle, bottom, right, bottom + handle, right, bottom + radius)} c`,
    `${numbers(right, top - radius)} l`,
    `${numbers(right, top - handle, right - handle, top, right - radius, top)} c`,
    `${numbers(left + radius, top)} l`,
    `${numbers(left + handle, top, left, top - handle, left, top - radius)} c`,
    `${numbers(left, bottom + radius)} l`,
    `${numbers(left, bottom + handle, left + handle, bottom, left + radius, bottom)} c h`,
  ].join('\n');
}

function centredText(
  text: string,
  bold: boolean,
  sizeUnits: number,
  centre: number,
  baseline: number,
): string {
  const font = bold ? resourceFontNames.bold : resourceFontNames.regular;
  const left = centre - textWidth(text, bold, sizeUnits) / 2;
  return `BT /${font} ${formatNumber(sizeUnits)} Tf ${numbers(left, baseline)} Td (${text}) Tj ET`;
}

/** Everything that does not depend on the serial or the address, built once. */
function fixedDrawing(): string {
  const { frame, bandBottom, innerLine, title, value, valueRule, serialRule, words } = layout;
  const inner = 100 - innerLine.inset;
  const lines = [
    `${layout.brandColour} rg ${layout.brandColour} RG`,
    roundedRectangle(0, 0, 100, 100, layout.cornerRadius),
    'f 1 g 1 G',
    roundedRectangle(frame, frame, 100 - frame, bandBottom, layout.panelRadius),
    `f ${formatNumber(innerLine.widthUnits)} w`,
    roundedRectangle(innerLine.inset, innerLine.inset, inner, inner, innerLine.radius),
    'S',
    centredText(title.text, true, title.sizeUnits, 50, title.baseline),
    `${layout.brandColour} rg ${layout.brandColour} RG ${formatNumber(valueRule.widthUnits)} w`,
    `${numbers(valueRule.left, valueRule.y)} m ${numbers(valueRule.right, valueRule.y)} l S`,
    `${formatNumber(serialRule.widthUnits)} w`,
    `${numbers(serialRule.left, serialRule.y)} m ${numbers(serialRule.right, serialRule.y)} l S`,
    centredText(value.text, true, value.sizeUnits, value.centre, value.baseline),
    `${layout.textColour} rg`,
  ];
  words.lines.forEach((line, index) => {
    lines.push(
      centredText(line, true, words.sizeUnits, words.centre, words.baseline - index * words.leading),
    );
  });
  return lines.join('\n');
}

const encoder = new TextEncoder();
const fixedPart = encoder.encode(fixedDrawing());

/**
 * Appends ASCII to a buffer sized up front, so the hot path builds no intermediate strings. Every
 * write is checked against the capacity; overrunning it is a bug in the size bound.
 */
class AsciiWriter {
  private readonly bytes: Uint8Array;
  private length = 0;

  constructor(capacityBytes: number) {
    this.bytes = new Uint8Array(capacityBytes);
  }

  private reserve(count: number): void {
    if (this.length + count > this.bytes.length) {
      throw new Error(`seal invariant: stream exceeds its bound of ${this.bytes.length} bytes`);
    }
  }

  text(value: string): void {
    this.reserve(value.length);
    for (let index = 0; index < value.length; index += 1) this.bytes[this.length++] = value.charCodeAt(index);
  }

  raw(value: Uint8Array): void {
    this.reserve(value.length);
    this.bytes.set(value, this.length);
    this.length += value.length;
  }

  /** A non-negative integer below 1000 followed by a space. */
  integerAndSpace(value: number): void {
    this.reserve(4);
    if (value >= 100) this.bytes[this.length++] = 48 + Math.floor(value / 100);
    if (value >= 10) this.bytes[this.length++] = 48 + (Math.floor(value / 10) % 10);
    this.bytes[this.length++] = 48 + (value % 10);
    this.bytes[this.length++] = 0x20;
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** Each rectangle is at most "ddd ddd ddd ddd re\n" (19 bytes) and a row holds at most size/2 runs. */
function tailBytesBound(size: number): number {
  return 512 + 19 * size * Math.ceil(size / 2);
}

/**
 * The QR code's dark modules as rectangles: each row's dark runs, merged downwards with identical runs of
 * the rows below (finder patterns and vertical strokes become one rectangle), filled as one path so that no
 * hairline seams appear between neighbouring modules. A second `cm` makes one module one unit with row 0
 * at the top, so the rectangles are small integers. Rectangles are written when they close, in column
 * order within a row.
 */
function writeQr(writer: AsciiWriter, moduleCount: number, modules: Uint8Array): void {
  writer.text(qrTransform(moduleCount));
  const count = qrRectangles(moduleCount, modules);
  for (let index = 0; index < count; index += 1) {
    const rectangle = rectangleScratch[index]!;
    writer.integerAndSpace(rectangle & 0xff);
    writer.integerAndSpace((rectangle >>> 8) & 0xff);
    writer.integerAndSpace((rectangle >>> 16) & 0xff);
    writer.integerAndSpace(rectangle >>> 24);
    writer.text('re\n');
  }
  writer.text(qrClose);
}

/** Ends the QR code's path: fill it, restore the state. */
const qrClose = 'f Q\n';

/** The line that sets black and maps one module to one unit, row 0 at the top (cached per symbol size). */
function qrTransform(moduleCount: number): string {
  let line = qrTransforms.get(moduleCount);
  if (line === undefined) {
    const { left, top, side, quietModules } = layout.qr;
    const moduleUnits = side / (moduleCount + 2 * quietModules);
    const originX = left + quietModules * moduleUnits;
    const originY = top - quietModules * moduleUnits;
    line = `0 g q ${numbers(moduleUnits, 0, 0, -moduleUnits, originX, originY)} cm\n`;
    qrTransforms.set(moduleCount, line);
  }
  return line;
}
const qrTransforms = new Map<number, string>();

/** Rectangles of the largest symbol (version 40): at most one per dark run, half a row's modules. */
const rectangleScratch = new Uint32Array(177 * 89 + 1);
/** Per start column: the length of the open rectangle and its first row (meaningful while it is open). */
const openLengths = new Uint8Array(177);
const openRows = new Uint8Array(177);
/** The start columns of the open rectangles, ascending: the last row's runs. */
const openColumns = new Uint8Array(177);
/**
 * Per start column, stamped with row + 1: a run of this row starts there, and its length. Never
 * cleared, yet no value left by an earlier row or call is mistaken for this row's: a column is only
 * looked up while a rectangle is open there, that is when the row before had a run there, which wrote
 * that row's stamp.
 */
const runRowAt = new Uint16Array(177);
const runLengthAt = new Uint8Array(177);
/**
 * Per start column: row + 1 when the rectangle open there went on in that row, else 0. A rectangle
 * that goes on is open in the next row, whose closing pass writes the column again (0 at the latest
 * when it closes, and everything closes after the last row), so a column with no open rectangle
 * always reads 0.
 */
const continuedAt = new Uint16Array(177);
/** The dark runs of one row: start columns and lengths, left to right. */
const runStarts = new Uint8Array(89);
const runLengths = new Uint8Array(89);
/** The columns where one row's colour changes (at most one per module, and the right border). */
const rowEdges = new Uint8Array(178);

/**
 * The rectangles `writeQr` draws, into `rectangleScratch`, each packed as
 * `column | row << 8 | width << 16 | height << 24`; returns their count. Row by row: an open rectangle
 * whose start column does not begin a run of the same length in this row closes (left to right), then
 * every run continues the rectangle open at its column or opens one.
 *
 * The data area of a seal's symbol holds a random serial, so the colour of a module, where a run
 * starts and whether a rectangle goes on are coin tosses: a loop branching on them mispredicts about
 * every other time (stamping one serial again and again hid this — the processor learns one symbol).
 * So the loops here do the same work whatever the data: every module is read the same way, every
 * open rectangle is written out and the count moves on only if it closed, and a run's first row is
 * chosen by arithmetic.
 */
function qrRectangles(moduleCount: number, modules: Uint8Array): number {
  let count = 0;
  let openCount = 0;
  for (let row = 0; row <= moduleCount; row += 1) {
    const stamp = row + 1;
    const runCount = row < moduleCount ? rowRuns(modules, moduleCount, row) : 0;
    for (let index = 0; index < runCount; index += 1) {
      const column = runStarts[index]!;
      runRowAt[column] = stamp;
      runLengthAt[column] = runLengths[index]!;
    }
    // Close, in column order, what does not go on.
    for (let index = 0; index < openCount; index += 1) {
      const column = openColumns[index]!;
      const length = openLengths[column]!;
      const first = openRows[column]!;
      const goesOn = same(runRowAt[column]!, stamp) & same(runLengthAt[column]!, length);
      continuedAt[column] = stamp * goesOn;
      rectangleScratch[count] = column | (first << 8) | (length << 16) | ((row - first) << 24);
      count += 1 - goesOn;
    }
    // This row's runs are the open rectangles now, each from its own row unless it went on.
    for (let index = 0; index < runCount; index += 1) {
      const column = runStarts[index]!;
      const wentOn = same(continuedAt[column]!, stamp);
      openColumns[index] = column;
      openLengths[column] = runLengths[index]!;
      openRows[column] = row - wentOn * (row - openRows[column]!);
    }
    openCount = runCount;
  }
  return count;
}

/**
 * The dark runs of `row` into `runStarts` and `runLengths`; returns how many there are. An edge is a
 * column whose module differs from the one before it (the border counting as light); each column's
 * index is written and the count of edges moves on by one only at an edge, so no branch follows the
 * colours. Edges alternate: a run starts at an even one and ends at the next.
 */
function rowRuns(modules: Uint8Array, moduleCount: number, row: number): number {
  const rowStart = row * moduleCount;
  let edgeCount = 0;
  let previous = 0;
  for (let column = 0; column < moduleCount; column += 1) {
    const value = modules[rowStart + column]!;
    const dark = (value | -value) >>> 31; // 1 for any non-zero entry
    rowEdges[edgeCount] = column;
    edgeCount += dark ^ previous;
    previous = dark;
  }
  rowEdges[edgeCount] = moduleCount;
  edgeCount += previous;
  const count = edgeCount >> 1;
  for (let run = 0; run < count; run += 1) {
    const start = rowEdges[2 * run]!;
    runStarts[run] = start;
    runLengths[run] = rowEdges[2 * run + 1]! - start;
  }
  return count;
}

/** The serial in groups of four for a person to read back, shrunk if a wide serial would not fit. */
function serialDrawing(serial: string): string {
  const { sizeUnitsMax, widthMax, baseline, centre, groupLength } = layout.serial;
  const groups: string[] = [];
  for (let start = 0; start < serial.length; start += groupLength) {
    groups.push(serial.slice(start, start + groupLength));
  }
  const text = groups.join(' ');
  const widthAtOne = textWidth(text, false, 1);
  const sizeUnits = Math.min(sizeUnitsMax, widthMax / widthAtOne);
  return `${layout.textColour} rg\n${centredText(text, false, sizeUnits, centre, baseline)}`;
}

/** Refuses a seal size, serial or address the seal cannot carry, with their own codes. */
export function checkSealInput(input: SealInput): void {
  const { serial, url, sizePt } = input;
  if (typeof sizePt !== 'number' || !(sizePt >= sealSizePtMinimum && sizePt <= sealSizePtMaximum)) {
    throw new BubuhError('SEAL_SIZE_INVALID', {
      sizePt: String(sizePt),
      minimum: sealSizePtMinimum,
      maximum: sealSizePtMaximum,
    });
  }
  if (typeof serial !== 'string' || !/^[0-9A-Z]{22}$/.test(serial) || !isValidSerial(serial)) {
    throw new BubuhError('SEAL_SERIAL_INVALID', { serial: String(serial).slice(0, 40) });
  }
  if (typeof url !== 'string' || url.length > sealUrlCharactersMax || !/^[\x21-\x7e]+$/.test(url)) {
    throw new BubuhError('SEAL_URL_INVALID', {
      limit: sealUrlCharactersMax,
      length: typeof url === 'string' ? url.length : 0,
    });
  }
}

/** The module matrix of a QR symbol: `size` × `size` entries, row by row, non-zero for dark. */
export interface QrModules {
  readonly size: number;
  readonly data: Uint8Array;
}

/**
 * The QR mask pattern used for every seal. The encoder's automatic choice scores all eight masks and
 * took about 450 µs of the ~500 µs an encoding costs — more than the rest of a stamp together. The
 * data area holds a random serial, so no mask produces the long runs or finder-like blocks the scoring
 * avoids more often than another; every decoder reads every mask, and the tests decode seals of random
 * serials at the smallest size with zbar. Mask 4 drew the smallest seals over random serials.
 */
export const sealQrMaskPattern = 4;

const alphanumericTail = /[0-9A-Z]+$/;

/**
 * The QR symbol of a seal URL at error correction M with the fixed mask. The address is encoded in
 * byte mode and the uppercase serial at its end in alphanumeric mode (5.5 bits a character instead
 * of 8), which keeps the symbol at version 3 — larger modules, easier to scan on a small seal.
 */
export function encodeSealQr(url: string): QrModules {
  const tail = alphanumericTail.exec(url)?.[0] ?? '';
  const head = url.slice(0, url.length - tail.length);
  // A deployment's seals share one address: its bytes are encoded once.
  if (head !== lastHead) {
    lastHead = head;
    lastHeadBytes = qrTextEncoder.encode(head);
  }
  const headBytes = lastHeadBytes;
  // The fast path covers the usual shape (an address, then the serial); anything else, and the first
  // symbol of each version, goes through the general encoder.
  const version = head && tail ? fastQrVersion(headBytes.length, tail.length) : null;
  const template = version === null ? undefined : qrTemplates.get(version);
  if (version !== null && template !== undefined) {
    return { size: template.size, data: encodeWithTemplate(template, version, headBytes, tail) };
  }
  const segments: QRCode.QRCodeSegment[] = [];
  if (head) segments.push({ data: headBytes, mode: 'byte' });
  if (tail) segments.push({ data: tail, mode: 'alphanumeric' });
  const symbol = QRCode.create(segments, { errorCorrectionLevel: 'M', maskPattern: sealQrMaskPattern });
  if (version !== null && symbol.version === version) {
    const { size, data, reservedBit } = symbol.modules;
    qrTemplates.set(version, templateFrom(size, data, reservedBit));
  }
  return symbol.modules;
}

const qrTextEncoder = new TextEncoder();
let lastHead = '';
let lastHeadBytes = new Uint8Array(0);
/** Function patterns per QR version (at most `fastQrVersionMax` entries), taken from the general encoder. */
const qrTemplates = new Map<number, QrTemplate>();

/** Draws the seal for one stamp; the same input always gives the same bytes. */
export function drawSeal(input: SealInput): SealDrawing {
  // Checked before encoding too, so a bad address is refused with its code rather than by the encoder.
  checkSealInput(input);
  return drawSealWithModules(input, encodeSealQr(input.url));
}

/**
 * Draws the seal around an already encoded QR symbol of `input.url`. `drawSeal` is this plus the
 * encoding; it exists so the encoding can be measured, cached or replaced on its own.
 */
export function drawSealWithModules(input: SealInput, modules: QrModules): SealDrawing {
  const head = sealHead(input.sizePt);
  const tail = drawSealTail(input, modules);
  const content = new Uint8Array(head.length + tail.length);
  content.set(head);
  content.set(tail, head.length);
  return { content, fonts, resourceFontNames };
}

export interface DeflatedSealDrawing {
  /** The content stream of `drawSealWithModules`, zlib-compressed (for `/Filter /FlateDecode`). */
  readonly deflated: Uint8Array;
  readonly fonts: SealFonts;
  readonly resourceFontNames: SealResourceFontNames;
}

/**
 * `drawSealWithModules` compressed. Most of the stream — the scale, frame, emblem and texts — is the
 * same for every seal of a size: it is compressed once per size (`deflateHead`, kept for the last
 * `deflatedHeadsMax` sizes); only the serial and the QR code are coded per seal, with a code fitted
 * once to a sample seal (`SplitDeflater`). This takes a few microseconds where compressing the whole
 * 4 KB stream took ~50 µs; the stream decompresses to exactly the bytes of `drawSealWithModules`.
 */
export function drawSealDeflated(input: SealInput, modules: QrModules): DeflatedSealDrawing {
  tailDeflater ??= new SplitDeflater(sampleTail());
  checkSealInput(input);
  checkQrModules(modules);
  // The QR code is never written as text: its rectangles go to the deflater as numbers.
  const prefix = encoder.encode(`\n${serialDrawing(input.serial)}\n${qrTransform(modules.size)}`);
  const count = qrRectangles(modules.size, modules.data);
  let head = deflatedHeads.get(input.sizePt);
  if (head === undefined) {
    head = deflateHead(sealHead(input.sizePt));
    if (deflatedHeads.size >= deflatedHeadsMax) deflatedHeads.delete(deflatedHeads.keys().next().value!);
    deflatedHeads.set(input.sizePt, head);
  }
  const deflated = tailDeflater.deflateRectangles(head, prefix, rectangleScratch, count, tailSuffix);
  return { deflated, fonts, resourceFontNames };
}

/** A deployment uses one or a few seal sizes; an unusual size only costs one more compression. */
const deflatedHeadsMax = 16;
const deflatedHeads = new Map<number, DeflatedHead>();
let tailDeflater: SplitDeflater | undefined;

/** The per-seal part of a seal of a fixed serial, from which the tail's code is fitted. */
function sampleTail(): Uint8Array {
  const serial = '0A1B2C3D4E5F6G7H8J9KQR';
  const url = `https://meterai.example.id/s/${serial}`;
  return drawSealTail({ serial, url, sizePt: 70 }, encodeSealQr(url));
}

/** The part of the stream that depends only on the size: the scale, then the fixed drawing. */
function sealHead(sizePt: number): Uint8Array {
  const scale = formatNumber(sizePt / 100);
  const writer = new AsciiWriter(fixedPart.length + 64);
  writer.text(`q ${scale} 0 0 ${scale} 0 0 cm\n`);
  writer.raw(fixedPart);
  return writer.result();
}

/** The part that changes from seal to seal: the serial, the QR code and the closing `Q`. */
function drawSealTail(input: SealInput, modules: QrModules): Uint8Array {
  checkSealInput(input);
  checkQrModules(modules);
  const writer = new AsciiWriter(tailBytesBound(modules.size));
  writer.text(`\n${serialDrawing(input.serial)}\n`);
  writeQr(writer, modules.size, modules.data);
  writer.text(sealClose);
  return writer.result();
}

/** Ends the seal: restores the state saved before its scale. */
const sealClose = 'Q\n';
/** What follows the QR code's rectangles in the tail. */
const tailSuffix = encoder.encode(qrClose + sealClose);

function checkQrModules(modules: QrModules): void {
  const { size, data } = modules;
  if (
    !Number.isInteger(size) ||
    size < 21 ||
    size > 177 ||
    (size - 17) % 4 !== 0 ||
    data.length !== size * size
  ) {
    throw new Error(`seal invariant: ${size} × ${size} with ${data.length} entries is not a QR matrix`);
  }
}
