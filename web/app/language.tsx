/**
 * The chosen language for every screen: Bahasa Indonesia unless the person switched to English (kept in
 * `localStorage`), with the number, money and date formats of that language.
 */
import { createContext, useContext } from 'react';
import { type Language, type TextKey, format } from './texts.js';

const languageKey = 'bubuh.language';

export function storedLanguage(): Language {
  try {
    return localStorage.getItem(languageKey) === 'en' ? 'en' : 'id';
  } catch {
    return 'id';
  }
}

export function storeLanguage(language: Language): void {
  try {
    localStorage.setItem(languageKey, language);
  } catch {
    // A browser that refuses storage keeps the choice for this visit only.
  }
  document.documentElement.lang = language;
}

export interface Words {
  readonly language: Language;
  t(key: TextKey, values?: Readonly<Record<string, string | number>>): string;
  number(value: number): string;
  rupiah(amount: number): string;
  dateTime(iso: string): string;
}

const locales: Readonly<Record<Language, string>> = { id: 'id-ID', en: 'en-GB' };

export function wordsFor(language: Language): Words {
  const numbers = new Intl.NumberFormat(locales[language]);
  const dates = new Intl.DateTimeFormat(locales[language], { dateStyle: 'medium', timeStyle: 'short' });
  return {
    language,
    t: (key, values) => format(language, key, values),
    number: (value) => numbers.format(value),
    rupiah: (amount) => `Rp${numbers.format(amount)}`,
    dateTime: (iso) => dates.format(new Date(iso)),
  };
}

export const WordsContext = createContext<Words>(wordsFor('id'));

export function useWords(): Words {
  return useContext(WordsContext);
}
