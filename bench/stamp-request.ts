/**
 * The stamp request the service and paced benchmarks give the engine directly: a fixed serial, the
 * local verification address, the signing time of the call.
 */
import { checkCharacters } from '../src/seal/serial.js';
import type { StampRequest } from '../src/stamping/stamp-document.js';

export function benchStampRequest(pdf: Uint8Array): StampRequest {
  const body = '0A1B2C3D4E5F6G7H8J9K';
  const serial = body + checkCharacters(body);
  return {
    pdf,
    serial,
    verifyUrl: `http://localhost:8080/s/${serial}`,
    reason: 'Surat Pernyataan',
    signingTime: new Date(),
  };
}
