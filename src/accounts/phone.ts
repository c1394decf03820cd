/**
 * Phone numbers as people write them, turned into E.164. Indonesian mobile numbers are accepted in the
 * four ways people write them (`08…`, `8…`, `628…`, `+628…`) and become `+628…`. Other countries'
 * numbers are accepted only in full international form (`+` and country code), since WhatsApp
 * reaches them too; anything else is refused with PHONE_INVALID.
 */
import { BubuhError } from '../errors.js';

/** Indonesian mobile numbers: 8 then 8–11 more digits (national significant number of 9–12 digits). */
const indonesianMobile = /^8\d{8,11}$/;
/** E.164: a country code not starting with 0, at most 15 digits in all. */
const e164 = /^\+[1-9]\d{7,14}$/;

/** The E.164 form of `input`, or PHONE_INVALID. Spaces, dashes, dots and parentheses are ignored. */
export function normalisePhone(input: string): string {
  const refuse = (): never => {
    throw new BubuhError('PHONE_INVALID', { phone: input.slice(0, 40) });
  };
  if (typeof input !== 'string' || input.length > 40) refuse();
  const compact = input.trim().replace(/[\s().-]/g, '');
  let national: string | null = null;
  if (/^08\d+$/.test(compact)) national = compact.slice(1);
  else if (/^8\d+$/.test(compact)) national = compact;
  else if (/^628\d+$/.test(compact)) national = compact.slice(2);
  else if (/^\+628\d+$/.test(compact)) national = compact.slice(3);
  if (national !== null) {
    if (!indonesianMobile.test(national)) refuse();
    return `+62${national}`;
  }
  // +62 followed by something other than 8 is an Indonesian landline: WhatsApp cannot reach it.
  if (compact.startsWith('+62') || !e164.test(compact)) refuse();
  return compact;
}
