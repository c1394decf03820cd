/**
 * Test support for the crypt tests: builds a tiny unencrypted PDF, and reads back the few objects the
 * tests need (the `/Encrypt` dictionary, `/ID`, one stream, one string) from files written by qpdf.
 * The real reader lives in `src/pdf`; this is a deliberately small parser for well-formed files only.
 */

import type { PdfObject } from '../objects.js';
import { PdfDict, PdfName, PdfRef, PdfString } from '../objects.js';

const latin1 = new TextDecoder('latin1');

export function latin1Bytes(text: string): Uint8Array {
  return PdfString.fromLatin1(text).bytes;
}

/** A one-page PDF with a classic xref table, `content` as its page content and `title` in `/Info`. */
export function buildPlainPdf(content: string, title: string): Uint8Array {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Title (${title}) /Producer (bubuh crypt test) >>`,
  ];
  let text = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(text.length);
    text += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefOffset = text.length;
  text += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) text += `${String(offset).padStart(10, '0')} 00000 n \n`;
  text += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  return latin1Bytes(text);
}

/** A minimal recursive-descent parser over the file's text (one char per byte). */
class Parser {
  position: number;
  constructor(
    readonly text: string,
    position: number,
  ) {
    this.position = position;
  }

  private skipSpace(): void {
    for (let guard = 0; guard < this.text.length && this.position < this.text.length; guard += 1) {
      const char = this.text[this.position] as string;
      if (char === '%') {
        const end = this.text.slice(this.position).search(/[\r\n]/);
        this.position = end < 0 ? this.text.length : this.position + end;
      } else if (/[\0\t\n\f\r ]/.test(char)) this.position += 1;
      else return;
    }
  }

  parse(): PdfObject {
    this.skipSpace();
    const rest = this.text.slice(this.position, this.position + 2);
    if (rest === '<<') return this.parseDict();
    if (rest[0] === '<') return this.parseHex();
    if (rest[0] === '(') return this.parseLiteral();
    if (rest[0] === '[') return this.parseArray();
    if (rest[0] === '/') return PdfName.of(this.token().slice(1));
    const token = this.token();
    if (token === 'true' || token === 'false') return token === 'true';
    if (token === 'null') return null;
    const number = Number(token);
    if (token === '' || Number.isNaN(number))
      throw new Error(`fixture parser: unexpected '${token}' at ${this.position}`);
    const reference = /^\s+(\d+)\s+R\b/.exec(this.text.slice(this.position, this.position + 20));
    if (!reference || !Number.isInteger(number)) return number;
    this.position += reference[0].length;
    return new PdfRef(number, Number(reference[1]));
  }

  private token(): string {
    const match = /^\/?[^\s/<>[\]()%]*/.exec(this.text.slice(this.position, this.position + 200));
    const token = match ? match[0] : '';
    this.position += token.length;
    return token;
  }

  private parseDict(): PdfDict {
    this.position += 2;
    const dict = new PdfDict();
    for (let guard = 0; guard < 10_000; guard += 1) {
      this.skipSpace();
      if (this.text.startsWith('>>', this.position)) {
        this.position += 2;
        return dict;
      }
      const key = this.parse();
      if (!(key instanceof PdfName)) throw new Error('fixture parser: dictionary key is not a name');
      dict.set(key.value, this.parse());
    }
    throw new Error('fixture parser: dictionary too long');
  }

  private parseArray(): PdfObject[] {
    this.position += 1;
    const items: PdfObject[] = [];
    for (let guard = 0; guard < 10_000; guard += 1) {
      this.skipSpace();
      if (this.text[this.position] === ']') {
        this.position += 1;
        return items;
      }
      items.push(this.parse());
    }
    throw new Error('fixture parser: array too long');
  }

  private parseHex(): PdfString {
    const end = this.text.indexOf('>', this.position);
    const digits = this.text.slice(this.position + 1, end).replace(/\s/g, '');
    this.position = end + 1;
    const padded = digits.length % 2 === 0 ? digits : `${digits}0`;
    const bytes = new Uint8Array(padded.length / 2);
    for (let index = 0; index < bytes.length; index += 1)
      bytes[index] = Number.parseInt(padded.slice(index * 2, index * 2 + 2), 16);
    return new PdfString(bytes, true);
  }

  private parseLiteral(): PdfString {
    const bytes: number[] = [];
    let depth = 0;
    const escapes: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, f: 12, '(': 40, ')': 41, '\\': 92 };
    for (let index = this.position; index < this.text.length; index += 1) {
      const char = this.text[index] as string;
      if (char === '\\') {
        const next = this.text[index + 1] as string;
        const octal = /^[0-7]{1,3}/.exec(this.text.slice(index + 1, index + 4));
        if (octal) {
          bytes.push(Number.parseInt(octal[0], 8) & 0xff);
          index += octal[0].length;
        } else if (next === '\r' || next === '\n') {
          index += next === '\r' && this.text[index + 2] === '\n' ? 2 : 1;
        } else {
          bytes.push(escapes[next] ?? next.charCodeAt(0));
          index += 1;
        }
        continue;
      }
      if (char === '(') depth += 1;
      if (char === ')') depth -= 1;
      if (depth === 0) {
        this.position = index + 1;
        return new PdfString(Uint8Array.from(bytes.slice(1)));
      }
      bytes.push(char.charCodeAt(0));
    }
    throw new Error('fixture parser: unterminated literal string');
  }
}

/** The last object `objectNumber 0 obj` in the file (later revisions win), and its stream data if any. */
export function readObject(
  file: Uint8Array,
  objectNumber: number,
): { value: PdfObject; stream?: Uint8Array } {
  const text = latin1.decode(file);
  const pattern = new RegExp(`(?:^|[\\r\\n])${objectNumber} 0 obj`, 'g');
  let start = -1;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text))
    start = match.index + match[0].length;
  if (start < 0) throw new Error(`fixture: object ${objectNumber} not found`);
  const parser = new Parser(text, start);
  const value = parser.parse();
  const after = /^\s*stream\r?\n/.exec(text.slice(parser.position, parser.position + 20));
  if (!after || !(value instanceof PdfDict)) return { value };
  let length = value.get('Length');
  if (length instanceof PdfRef) length = readObject(file, length.objectNumber).value;
  if (typeof length !== 'number') throw new Error(`fixture: object ${objectNumber} has no usable /Length`);
  const dataStart = parser.position + after[0].length;
  return { value, stream: file.slice(dataStart, dataStart + length) };
}

/** The last trailer dictionary (classic xref files only). */
export function readTrailer(file: Uint8Array): PdfDict {
  const text = latin1.decode(file);
  const start = text.lastIndexOf('trailer');
  if (start < 0) throw new Error('fixture: no trailer');
  const value = new Parser(text, start + 'trailer'.length).parse();
  if (!(value instanceof PdfDict)) throw new Error('fixture: trailer is not a dictionary');
  return value;
}

/** `/Encrypt` (resolved) and the first `/ID` element of a classic-xref file. */
export function readEncryption(file: Uint8Array): {
  encrypt: PdfDict;
  firstId: Uint8Array;
  trailer: PdfDict;
} {
  const trailer = readTrailer(file);
  let encrypt = trailer.get('Encrypt');
  if (encrypt instanceof PdfRef) encrypt = readObject(file, encrypt.objectNumber).value;
  if (!(encrypt instanceof PdfDict)) throw new Error('fixture: no /Encrypt dictionary');
  const ids = trailer.get('ID');
  const first = Array.isArray(ids) ? ids[0] : undefined;
  return { encrypt, firstId: first instanceof PdfString ? first.bytes : new Uint8Array(0), trailer };
}

export function refOf(dict: PdfDict, key: string): PdfRef {
  const value = dict.get(key);
  if (!(value instanceof PdfRef)) throw new Error(`fixture: /${key} is not a reference`);
  return value;
}
