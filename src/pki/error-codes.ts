/** Error codes of the pki area (key stores, PKCS#11 tokens, `bubuh pki import`); merged into the one registry in src/errors.ts. */
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
  PKI_IMPORT_EXISTS: {
    status: 409,
    id: 'Direktori {path} sudah berisi PKI (root.pem); `bubuh pki import` tidak pernah menimpa hierarki yang terpasang. Pindahkan direktori lama atau pilih BUBUH_PKI_DIR lain.',
    en: 'The directory {path} already holds a PKI (root.pem); `bubuh pki import` never overwrites an installed hierarchy. Move the old directory aside or choose another BUBUH_PKI_DIR.',
  },
  PKI_IMPORT_FILE_INVALID: {
    status: 400,
    id: 'Berkas {path} ({role}) tidak dapat dipakai: {problem}.',
    en: 'The file {path} ({role}) cannot be used: {problem}.',
  },
  PKI_IMPORT_ROOT_INVALID: {
    status: 400,
    id: 'Sertifikat root {subject} tidak dapat dipasang: {problem}. Root harus sertifikat CA yang ditandatangani sendiri.',
    en: 'The root certificate {subject} cannot be installed: {problem}. The root must be a self-signed CA certificate.',
  },
  PKI_IMPORT_CA_NOT_SIGNED_BY_ROOT: {
    status: 400,
    id: 'CA penerbit {subject} tidak ditandatangani oleh root {root}. Pasang root yang menerbitkannya, atau CA yang diterbitkan root ini.',
    en: 'The issuing CA {subject} is not signed by the root {root}. Install the root that issued it, or a CA issued by this root.',
  },
  PKI_IMPORT_NOT_A_CA: {
    status: 400,
    id: 'Sertifikat {role} {subject} bukan CA: {problem}. Sertifikat ini memerlukan basicConstraints cA=true dan keyUsage keyCertSign.',
    en: 'The {role} certificate {subject} is not a CA: {problem}. It needs basicConstraints cA=true and the keyCertSign key usage.',
  },
  PKI_IMPORT_KEY_MISMATCH: {
    status: 400,
    id: 'Kunci privat {path} bukan milik sertifikat {role} {subject}. Pasang kunci yang sesuai dengan sertifikatnya.',
    en: 'The private key {path} does not belong to the {role} certificate {subject}. Install the key that matches the certificate.',
  },
  PKI_IMPORT_NOT_VALID_NOW: {
    status: 400,
    id: 'Sertifikat {role} {subject} tidak berlaku sekarang ({now}): berlaku dari {notBefore} sampai {notAfter}.',
    en: 'The {role} certificate {subject} is not valid now ({now}): it is valid from {notBefore} to {notAfter}.',
  },
  PKI_IMPORT_KEY_UNSUPPORTED: {
    status: 400,
    id: 'Kunci {role} {subject} tidak didukung: {problem}. CA penerbit memerlukan kunci ECDSA P-256; TSA memerlukan ECDSA P-256 atau RSA 2048 bit ke atas.',
    en: 'The {role} key of {subject} is not supported: {problem}. The issuing CA needs an ECDSA P-256 key; the TSA an ECDSA P-256 key or an RSA key of 2048 bits or more.',
  },
  PKI_IMPORT_TSA_INVALID: {
    status: 400,
    id: 'Sertifikat TSA {subject} tidak dapat dipasang: {problem}.',
    en: 'The TSA certificate {subject} cannot be installed: {problem}.',
  },
  PKI_SIGNER_REVOKED: {
    status: 503,
    id: 'Sertifikat penanda tangan node ini (nomor seri {serial}) sudah dicabut dan belum dapat diganti, jadi node ini tidak membubuhkan meterai. Periksa CA penerbit dan penyimpanan kunci, lalu coba lagi.',
    en: "This node's signer certificate (serial {serial}) has been revoked and could not be replaced yet, so this node does not stamp. Check the issuing CA and the key store, then try again.",
  },
} as const satisfies Record<string, ErrorDefinition>;
