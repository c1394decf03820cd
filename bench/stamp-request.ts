/**
 * What the benchmarks give the engine directly. Every stamp the service makes carries a fresh serial,
 * so the benchmarks stamp with fresh serials too: stamping one serial again and again lets the
 * processor learn the seal's QR code (the same modules, the same rectangles, the same branches each
 * time), and on the median letter that made a stamp about 7 % cheaper than one with a new serial
 * (docs/benchmarks.md). The serials come from a fixed seed, so every run stamps the same ones.
 */
import { checkCharacters } from '../src/seal/serial.js';
import type { StampRequest } from '../src/stamping/stamp-document.js';

const serialCharacters = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `count` valid serials (20 characters and their two check characters), the same ones on every run. */
export function benchSerials(count: number): string[] {
  // mulberry32: a small generator with a fixed seed; nothing here needs to be unpredictable.
  let state = 0x9e3779b9;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), state | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    let body = '';
    for (let index = 0; index < 20; index += 1) {
      body += serialCharacters[Math.floor(next() * serialCharacters.length)];
    }
    return body + checkCharacters(body);
  });
}

/** Serials a benchmark cycles through: more than a processor's branch history can hold. */
export const benchSerialCount = 4096;

/** A request for the service and paced benchmarks: the local verification address, signed now. */
export function benchStampRequest(pdf: Uint8Array, serial: string): StampRequest {
  return {
    pdf,
    serial,
    verifyUrl: `http://localhost:8080/s/${serial}`,
    reason: 'Surat Pernyataan',
    signingTime: new Date(),
  };
}

/** One request per serial of `benchSerials`, to be taken in turn so that each stamp has a new serial. */
export function benchStampRequests(pdf: Uint8Array): StampRequest[] {
  return benchSerials(benchSerialCount).map((serial) => benchStampRequest(pdf, serial));
}
