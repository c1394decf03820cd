/**
 * The PDF object parser (ISO 32000-2 §7.3). Containers are parsed with an explicit stack instead of
 * recursion, so a hostile file with 100 000 nested `[` meets the nesting limit, never a stack overflow.
 */
import { BubuhError } from '../errors.js';
import { isTokenEnd, isWhiteSpace, Lexer, pdfDamaged, Token } from './lexer.js';
import type { PdfObject } from './objects.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString } from './objects.js';

export interface ParserOptions {
  readonly nestingDepthMax: number;
  /** Resolves an indirect stream /Length; undefined when it cannot be resolved (the parser then searches). */
  readonly resolveLength?: (ref: PdfRef) => number | undefined;
  /** Called every 1024 tokens so a time budget can stop a huge object. */
  readonly tick?: () => void;
}

/** An indirect object `N G obj ... endobj` and its byte span (`end` is just past `endobj`). */
export interface IndirectObject {
  readonly objectNumber: number;
  readonly generation: number;
  readonly value: PdfObject;
  readonly start: number;
  readonly end: number;
}

interface DictionaryFrame {
  readonly entries: Map<string, PdfObject>;
  key: string | undefined;
}

type Frame = PdfObject[] | DictionaryFrame;

const endstreamKeyword = new TextEncoder().encode('endstream');

/** The first index of `pattern` in `bytes` at or after `from`, or -1. */
export function indexOfSequence(bytes: Uint8Array, pattern: Uint8Array, from: number): number {
  const first = pattern[0]!;
  const last = bytes.length - pattern.length;
  let index = bytes.indexOf(first, from);
  while (index !== -1 && index <= last) {
    let matched = 1;
    while (matched < pattern.length && bytes[index + matched] === pattern[matched]) matched += 1;
    if (matched === pattern.length) return index;
    index = bytes.indexOf(first, index + 1);
  }
  return -1;
}

export class Parser {
  readonly lexer: Lexer;
  readonly bytes: Uint8Array;
  private readonly options: ParserOptions;
  private tokens = 0;

  constructor(bytes: Uint8Array, options: ParserOptions) {
    this.bytes = bytes;
    this.lexer = new Lexer(bytes);
    this.options = options;
  }

  /** Parses one object starting at `lexer.position`. */
  parseObject(): PdfObject {
    const lexer = this.lexer;
    const stack: Frame[] = [];
    const depthMax = this.options.nestingDepthMax;
    while (true) {
      this.tokens += 1;
      if ((this.tokens & 1023) === 0) this.options.tick?.();
      const kind = lexer.next();
      let value: PdfObject;
      if (kind === Token.arrayOpen || kind === Token.dictOpen) {
        if (stack.length >= depthMax) {
          throw new BubuhError('PDF_NESTING_TOO_DEEP', { limit: depthMax, offset: lexer.tokenStart });
        }
        stack.push(kind === Token.arrayOpen ? [] : { entries: new Map(), key: undefined });
        continue;
      }
      if (kind === Token.arrayClose || kind === Token.dictClose) {
        value = closeFrame(stack, kind, lexer.tokenStart);
      } else {
        value = this.scalar(kind);
      }
      const top = stack[stack.length - 1];
      if (top === undefined) return value;
      if (Array.isArray(top)) {
        top.push(value);
      } else if (top.key === undefined) {
        if (!(value instanceof PdfName))
          throw pdfDamaged(`dictionary key is not a name at byte ${lexer.tokenStart}`);
        top.key = value.value;
      } else {
        top.entries.set(top.key, value);
        top.key = undefined;
      }
    }
  }

  private scalar(kind: number): PdfObject {
    const lexer = this.lexer;
    switch (kind) {
      case Token.number: {
        const number = lexer.numberValue;
        if (lexer.integer && number >= 0) {
          const generation = lexer.tryReferenceTail();
          if (generation >= 0) return new PdfRef(number, generation);
        }
        return number;
      }
      case Token.name:
        return PdfName.of(lexer.text);
      case Token.string:
        return new PdfString(lexer.stringBytes, lexer.hex);
      case Token.keyword:
        if (lexer.text === 'true') return true;
        if (lexer.text === 'false') return false;
        if (lexer.text === 'null') return null;
        throw pdfDamaged(`unexpected '${lexer.text.slice(0, 20)}' at byte ${lexer.tokenStart}`);
      default:
        throw pdfDamaged(`unexpected end of data at byte ${lexer.tokenStart}`);
    }
  }

  /** Reads `N G obj` at `offset`; null when the bytes there are not such a header. */
  readObjectHeader(offset: number): { objectNumber: number; generation: number; start: number } | null {
    const lexer = this.lexer;
    if (offset < 0 || offset >= this.bytes.length) return null;
    lexer.position = offset;
    if (lexer.next() !== Token.number || !lexer.integer || lexer.numberValue < 0) return null;
    const start = lexer.tokenStart;
    const objectNumber = lexer.numberValue;
    if (lexer.next() !== Token.number || !lexer.integer || lexer.numberValue < 0) return null;
    const generation = lexer.numberValue;
    if (lexer.next() !== Token.keyword || lexer.text !== 'obj') return null;
    return { objectNumber, generation, start };
  }

  /** Parses the indirect object whose `N G obj` header starts at `offset`. */
  parseIndirectObject(offset: number): IndirectObject {
    const header = this.readObjectHeader(offset);
    if (header === null) throw pdfDamaged(`no 'N G obj' at byte ${offset}`);
    const lexer = this.lexer;
    let value = this.parseObject();
    let end = lexer.position;
    const kind = lexer.next();
    if (kind === Token.keyword && lexer.text === 'stream' && value instanceof PdfDict) {
      value = this.parseStreamData(value, lexer.position);
      end = lexer.position;
      if (lexer.next() === Token.keyword && (lexer.text as string) === 'endobj') end = lexer.position;
    } else if (kind === Token.keyword && lexer.text === 'endobj') {
      end = lexer.position;
    }
    return {
      objectNumber: header.objectNumber,
      generation: header.generation,
      value,
      start: header.start,
      end,
    };
  }

  /** Reads stream data after the `stream` keyword; leaves the lexer just past `endstream`. */
  private parseStreamData(dict: PdfDict, afterKeyword: number): PdfStream {
    const bytes = this.bytes;
    let start = afterKeyword;
    // Some producers put spaces before the end-of-line; the data begins after CR LF, LF or a lone CR.
    while (bytes[start] === 0x20) start += 1;
    if (bytes[start] === 0x0d) start += 1;
    if (bytes[start] === 0x0a) start += 1;
    const length = this.streamLength(dict);
    if (length !== undefined && start + length <= bytes.length) {
      const after = this.endstreamAt(start + length);
      if (after >= 0) {
        this.lexer.position = after;
        return new PdfStream(dict, bytes.subarray(start, start + length));
      }
    }
    // /Length is missing or wrong: the data ends before the next `endstream` and its end-of-line.
    const found = indexOfSequence(bytes, endstreamKeyword, start);
    if (found < 0) throw pdfDamaged(`stream at byte ${start} has no endstream`);
    let end = found;
    if (end > start && bytes[end - 1] === 0x0a) end -= 1;
    if (end > start && bytes[end - 1] === 0x0d) end -= 1;
    this.lexer.position = found + endstreamKeyword.length;
    return new PdfStream(dict, bytes.subarray(start, end));
  }

  private streamLength(dict: PdfDict): number | undefined {
    let length = dict.get('Length');
    if (length instanceof PdfRef) length = this.options.resolveLength?.(length);
    if (typeof length === 'number' && Number.isSafeInteger(length) && length >= 0) return length;
    return undefined;
  }

  /** The position just past `endstream` when it follows `position` after optional white-space; else -1. */
  private endstreamAt(position: number): number {
    const bytes = this.bytes;
    let cursor = position;
    const whiteSpaceMax = position + 64;
    while (cursor < whiteSpaceMax && isWhiteSpace(bytes[cursor])) cursor += 1;
    for (let index = 0; index < endstreamKeyword.length; index += 1) {
      if (bytes[cursor + index] !== endstreamKeyword[index]) return -1;
    }
    const after = cursor + endstreamKeyword.length;
    return isTokenEnd(bytes[after]) ? after : -1;
  }
}

function closeFrame(stack: Frame[], kind: number, offset: number): PdfObject {
  const top = stack.pop();
  if (kind === Token.arrayClose) {
    if (!Array.isArray(top)) throw pdfDamaged(`unexpected ']' at byte ${offset}`);
    return top;
  }
  if (top === undefined || Array.isArray(top)) throw pdfDamaged(`unexpected '>>' at byte ${offset}`);
  // A key without a value (`<< /A >>`) is dropped, as viewers do.
  return new PdfDict(top.entries);
}
