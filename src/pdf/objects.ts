/**
 * The PDF object model (ISO 32000-2 §7.3) shared by the reader and the append-only writer. Values are
 * small immutable-by-convention classes so the writer can tell a name from a string from a reference.
 * Numbers are plain JS numbers: integers serialise as integers, other values as decimals.
 */

/** A name such as `/Type`; `value` is the decoded name without the slash (`#xx` escapes resolved). */
export class PdfName {
  private static readonly interned = new Map<string, PdfName>();
  readonly value: string;

  private constructor(value: string) {
    this.value = value;
  }

  /** Names are interned, so `PdfName.of('Type') === PdfName.of('Type')`. */
  static of(value: string): PdfName {
    let name = PdfName.interned.get(value);
    if (!name) {
      name = new PdfName(value);
      // Bounded: interning stops growing past 100k distinct names (hostile files); later ones are not shared.
      if (PdfName.interned.size < 100_000) PdfName.interned.set(value, name);
    }
    return name;
  }
}

/** A string, kept as raw bytes; `hex` records how it was written so a rewrite can keep its form. */
export class PdfString {
  readonly bytes: Uint8Array;
  readonly hex: boolean;

  constructor(bytes: Uint8Array, hex = false) {
    this.bytes = bytes;
    this.hex = hex;
  }

  /** A string holding the bytes of a Latin-1/ASCII JS string (each char code must be < 256). */
  static fromLatin1(text: string, hex = false): PdfString {
    const bytes = new Uint8Array(text.length);
    for (let index = 0; index < text.length; index += 1) {
      const code = text.charCodeAt(index);
      if (code > 255) throw new Error(`PdfString.fromLatin1: character ${code} is not Latin-1`);
      bytes[index] = code;
    }
    return new PdfString(bytes, hex);
  }
}

/** An indirect reference `num gen R`. */
export class PdfRef {
  readonly objectNumber: number;
  readonly generation: number;

  constructor(objectNumber: number, generation: number) {
    this.objectNumber = objectNumber;
    this.generation = generation;
  }

  get key(): string {
    return `${this.objectNumber} ${this.generation}`;
  }
}

export class PdfDict {
  readonly entries: Map<string, PdfObject>;

  constructor(entries: Map<string, PdfObject> = new Map()) {
    this.entries = entries;
  }

  get(key: string): PdfObject | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: PdfObject): this {
    this.entries.set(key, value);
    return this;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** A shallow copy: the writer changes copies, never the reader's objects. */
  clone(): PdfDict {
    return new PdfDict(new Map(this.entries));
  }
}

/**
 * A stream: its dictionary and its bytes exactly as stored in the file (still encoded by its
 * filters and, in an encrypted file, still encrypted). Decoding is the reader's job, under limits.
 */
export class PdfStream {
  readonly dict: PdfDict;
  readonly raw: Uint8Array;

  constructor(dict: PdfDict, raw: Uint8Array) {
    this.dict = dict;
    this.raw = raw;
  }
}

export type PdfArray = PdfObject[];

export type PdfObject =
  null | boolean | number | PdfName | PdfString | PdfRef | PdfArray | PdfDict | PdfStream;

export function isDict(value: PdfObject | undefined): value is PdfDict {
  return value instanceof PdfDict;
}

export function isName(value: PdfObject | undefined, expected?: string): value is PdfName {
  return value instanceof PdfName && (expected === undefined || value.value === expected);
}

export function isRef(value: PdfObject | undefined): value is PdfRef {
  return value instanceof PdfRef;
}

export function isArray(value: PdfObject | undefined): value is PdfArray {
  return Array.isArray(value);
}
