/** Error codes of the pki area (key stores, PKCS#11 tokens); merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const pkiErrorDefinitions = {
  KEYSTORE_KEY_NOT_FOUND: {
    status: 500,
    id: 'Kunci "{label}" tidak ada di penyimpanan kunci {store}. Buat kuncinya, atau setel label kunci yang sudah ada (BUBUH_PKCS11_KEY_LABEL).',
    en: 'The key "{label}" is not in the {store} key store. Generate it, or set the label of an existing key (BUBUH_PKCS11_KEY_LABEL).',
  },
  KEYSTORE_KEY_EXISTS: {
    status: 409,
    id: 'Penyimpanan kunci {store} sudah memuat kunci "{label}"; kunci yang ada tidak ditimpa. Pakai label lain atau hapus kunci lama lebih dulu.',
    en: 'The {store} key store already holds a key "{label}"; an existing key is never overwritten. Use another label or delete the old key first.',
  },
  KEYSTORE_KEY_AMBIGUOUS: {
    status: 500,
    id: 'Ada {count} kunci privat berlabel "{label}" di penyimpanan kunci {store}. Beri setiap kunci label yang unik.',
    en: 'There are {count} private keys labelled "{label}" in the {store} key store. Give each key a unique label.',
  },
  KEYSTORE_KEY_UNSUPPORTED: {
    status: 500,
    id: 'Kunci "{label}" di penyimpanan kunci {store} tidak dapat menandatangani meterai: {problem}. Pakai kunci ECDSA P-256 atau RSA 2048 bit ke atas.',
    en: 'The key "{label}" in the {store} key store cannot sign stamps: {problem}. Use an ECDSA P-256 key or an RSA key of 2048 bits or more.',
  },
  PKCS11_MODULE_UNLOADABLE: {
    status: 500,
    id: 'Modul PKCS#11 {module} tidak dapat dimuat: {problem}. Periksa BUBUH_PKCS11_MODULE dan bahwa pustaka HSM terpasang.',
    en: 'The PKCS#11 module {module} cannot be loaded: {problem}. Check BUBUH_PKCS11_MODULE and that the HSM library is installed.',
  },
  PKCS11_TOKEN_NOT_FOUND: {
    status: 500,
    id: 'Tidak ada token terinisialisasi berlabel "{token}" di modul PKCS#11 (token yang ada: {available}). Periksa BUBUH_PKCS11_TOKEN_LABEL.',
    en: 'No initialised token labelled "{token}" in the PKCS#11 module (tokens present: {available}). Check BUBUH_PKCS11_TOKEN_LABEL.',
  },
  PKCS11_PIN_INCORRECT: {
    status: 500,
    id: 'PIN pengguna token "{token}" salah. Periksa BUBUH_PKCS11_PIN; percobaan yang salah berulang dapat mengunci token.',
    en: 'The user PIN of token "{token}" is wrong. Check BUBUH_PKCS11_PIN; repeated wrong attempts can lock the token.',
  },
  PKCS11_PIN_LOCKED: {
    status: 500,
    id: 'PIN pengguna token "{token}" terkunci karena terlalu banyak percobaan salah. Petugas keamanan token harus membuka atau menyetel ulang PIN.',
    en: 'The user PIN of token "{token}" is locked after too many wrong attempts. The token security officer must unlock or reset it.',
  },
  PKCS11_MECHANISM_UNSUPPORTED: {
    status: 500,
    id: 'Token "{token}" tidak menyediakan mekanisme {mechanism} yang diperlukan untuk {purpose}. Pakai token atau jenis kunci lain.',
    en: 'The token "{token}" does not offer the mechanism {mechanism}, needed to {purpose}. Use another token or key type.',
  },
  PKCS11_OPERATION_FAILED: {
    status: 503,
    id: 'Perangkat penandatanganan menolak {operation}: {problem}. Coba lagi sebentar lagi; bila berulang, periksa perangkatnya.',
    en: 'The signing device refused {operation}: {problem}. Try again shortly; if it keeps happening, check the device.',
  },
} as const satisfies Record<string, ErrorDefinition>;
