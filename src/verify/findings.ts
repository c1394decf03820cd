/**
 * Every reason a verification report can give, with a stable snake_case code and the text a person
 * reads in English and Bahasa Indonesia. `{name}` placeholders are filled from the finding's details.
 */

export interface Finding {
  readonly code: FindingCode;
  readonly en: string;
  readonly id: string;
}

interface FindingText {
  readonly en: string;
  readonly id: string;
}

export const findingTexts = {
  no_stamp: {
    en: 'The document carries no e-meterai.',
    id: 'Dokumen ini tidak memuat e-meterai.',
  },
  document_damaged: {
    en: 'The document is damaged or truncated ({problem}); its signatures cannot be checked.',
    id: 'Dokumen rusak atau terpotong ({problem}); tanda tangannya tidak dapat diperiksa.',
  },
  trust_anchor_invalid: {
    en: 'Trust anchor {index} is not a certificate this verifier can read; it was ignored.',
    id: 'Sertifikat akar tepercaya nomor {index} tidak dapat dibaca; sertifikat itu diabaikan.',
  },
  signature_dictionary_invalid: {
    en: 'The signature field "{field}" has a malformed signature dictionary ({problem}).',
    id: 'Kolom tanda tangan "{field}" memiliki kamus tanda tangan yang rusak ({problem}).',
  },
  byte_range_invalid: {
    en: 'The signed byte range is malformed ({problem}).',
    id: 'Rentang bita yang ditandatangani tidak valid ({problem}).',
  },
  byte_range_not_revision_end: {
    en: 'The signed byte range does not end where a revision of the document ends; part of the revision is not signed.',
    id: 'Rentang bita yang ditandatangani tidak berakhir di akhir revisi dokumen; sebagian revisi tidak ditandatangani.',
  },
  byte_range_gap_not_contents: {
    en: 'The unsigned gap in the byte range is not exactly the signature value (/Contents).',
    id: 'Celah yang tidak ditandatangani pada rentang bita bukan tepat nilai tanda tangan (/Contents).',
  },
  cms_malformed: {
    en: 'The signature value is not a readable CMS signature ({problem}).',
    id: 'Nilai tanda tangan bukan tanda tangan CMS yang dapat dibaca ({problem}).',
  },
  digest_algorithm_unsupported: {
    en: 'The signature uses a digest algorithm this verifier does not support ({algorithm}).',
    id: 'Tanda tangan memakai algoritma hash yang tidak didukung ({algorithm}).',
  },
  digest_mismatch: {
    en: 'The document bytes were changed after signing: their digest does not match the signed digest.',
    id: 'Isi dokumen berubah setelah ditandatangani: nilai hash-nya tidak sama dengan yang ditandatangani.',
  },
  signer_certificate_missing: {
    en: "The signer's certificate is not in the signature.",
    id: 'Sertifikat penanda tangan tidak ada di dalam tanda tangan.',
  },
  signature_algorithm_unsupported: {
    en: 'The signature uses an algorithm this verifier does not support ({algorithm}).',
    id: 'Tanda tangan memakai algoritma yang tidak didukung ({algorithm}).',
  },
  signature_invalid: {
    en: "The signature does not verify with the signer certificate's public key.",
    id: 'Tanda tangan tidak cocok dengan kunci publik pada sertifikat penanda tangan.',
  },
  signing_certificate_mismatch: {
    en: 'The signed signing-certificate attribute names a different certificate than the one that signed.',
    id: 'Atribut signing-certificate yang ditandatangani menunjuk sertifikat lain daripada sertifikat penanda tangan.',
  },
  untrusted: {
    en: 'The signer certificate does not chain to a trusted root certificate.',
    id: 'Sertifikat penanda tangan tidak berujung pada sertifikat akar yang tepercaya.',
  },
  certificate_signature_invalid: {
    en: 'A certificate in the chain is not validly signed by its issuer.',
    id: 'Salah satu sertifikat dalam rantai tidak ditandatangani dengan sah oleh penerbitnya.',
  },
  issuer_not_ca: {
    en: 'A certificate in the chain was issued by a certificate that is not a certification authority.',
    id: 'Salah satu sertifikat dalam rantai diterbitkan oleh sertifikat yang bukan otoritas sertifikat (CA).',
  },
  certificate_expired: {
    en: 'The certificate "{subject}" had expired at the signing time {signingTime}.',
    id: 'Sertifikat "{subject}" sudah kedaluwarsa pada waktu penandatanganan {signingTime}.',
  },
  certificate_not_yet_valid: {
    en: 'The certificate "{subject}" was not yet valid at the signing time {signingTime}.',
    id: 'Sertifikat "{subject}" belum berlaku pada waktu penandatanganan {signingTime}.',
  },
  signing_time_missing: {
    en: 'The signature states no readable signing time (/M); certificates were checked at the verification time.',
    id: 'Tanda tangan tidak mencantumkan waktu penandatanganan (/M) yang terbaca; sertifikat diperiksa pada waktu verifikasi.',
  },
  serial_invalid: {
    en: 'The e-meterai serial "{serial}" is not a valid serial ({problem}).',
    id: 'Nomor seri e-meterai "{serial}" tidak valid ({problem}).',
  },
  serial_mismatch: {
    en: 'The serial in the signature reason ({reasonSerial}) differs from the serial in the field name ({fieldSerial}).',
    id: 'Nomor seri pada alasan tanda tangan ({reasonSerial}) berbeda dari nomor seri pada nama kolom ({fieldSerial}).',
  },
  seal_missing: {
    en: 'The e-meterai has no visible seal on a page.',
    id: 'E-meterai tidak memiliki segel yang tampak pada halaman.',
  },
  seal_hidden: {
    en: 'The e-meterai seal is hidden or has no area on the page.',
    id: 'Segel e-meterai disembunyikan atau tidak memiliki luas pada halaman.',
  },
  seal_not_signed: {
    en: 'The e-meterai seal was not part of the signed revision.',
    id: 'Segel e-meterai bukan bagian dari revisi yang ditandatangani.',
  },
  seal_changed_after_stamp: {
    en: 'The e-meterai seal was changed or removed after the stamp was signed.',
    id: 'Segel e-meterai diubah atau dihapus setelah meterai ditandatangani.',
  },
  later_revisions_harmless: {
    en: 'The document was updated after this signature, but only with signatures, annotations or form data.',
    id: 'Dokumen diperbarui setelah tanda tangan ini, tetapi hanya dengan tanda tangan, anotasi, atau data formulir.',
  },
  modified_after_stamp: {
    en: 'The document content was changed after this signature ({problem}).',
    id: 'Isi dokumen diubah setelah tanda tangan ini ({problem}).',
  },
  certificate_revoked: {
    en: 'The certificate "{subject}" was revoked at {revokedAt} ({reason}), before the signing time {signingTime}: the signature is not valid.',
    id: 'Sertifikat "{subject}" dicabut pada {revokedAt} ({reason}), sebelum waktu penandatanganan {signingTime}: tanda tangan ini tidak sah.',
  },
  certificate_revoked_after_signing: {
    en: 'The certificate "{subject}" was revoked at {revokedAt} because its key may be in other hands ({reason}); the signing time {signingTime} is only the signer\'s claim, so the signature cannot be relied on.',
    id: 'Sertifikat "{subject}" dicabut pada {revokedAt} karena kuncinya mungkin dikuasai pihak lain ({reason}); waktu penandatanganan {signingTime} hanya pengakuan penanda tangan, sehingga tanda tangan ini tidak dapat diandalkan.',
  },
  certificate_revoked_later: {
    en: 'The certificate "{subject}" was revoked at {revokedAt} ({reason}), after the signing time {signingTime}; a signature made before stays valid.',
    id: 'Sertifikat "{subject}" dicabut pada {revokedAt} ({reason}), setelah waktu penandatanganan {signingTime}; tanda tangan yang dibuat sebelumnya tetap sah.',
  },
  crl_invalid: {
    en: 'CRL {index} is not a certificate revocation list this verifier can read; it was ignored.',
    id: 'Daftar pencabutan sertifikat (CRL) nomor {index} tidak dapat dibaca; daftar itu diabaikan.',
  },
  registry_serial_unknown: {
    en: 'The registry at {registry} has no e-meterai with serial {serial}: it was not issued there.',
    id: 'Registri di {registry} tidak memiliki e-meterai bernomor seri {serial}: e-meterai ini tidak diterbitkan di sana.',
  },
  registry_digest_mismatch: {
    en: 'The registry binds serial {serial} to another document (digest {registeredPrefix}…, this document {documentPrefix}…): the e-meterai was taken from another document.',
    id: 'Registri mengikat nomor seri {serial} ke dokumen lain (hash {registeredPrefix}…, dokumen ini {documentPrefix}…): e-meterai ini diambil dari dokumen lain.',
  },
  registry_serial_revoked: {
    en: 'The e-meterai {serial} was revoked by the registry at {revokedAt} ({reason}).',
    id: 'E-meterai {serial} telah dicabut oleh registri pada {revokedAt} ({reason}).',
  },
  registry_unavailable: {
    en: 'The registry at {registry} could not be asked about serial {serial} ({problem}); revocation and reuse were not checked.',
    id: 'Registri di {registry} tidak dapat ditanya tentang nomor seri {serial} ({problem}); pencabutan dan pemakaian ulang tidak diperiksa.',
  },
  time_stamp_valid: {
    en: 'The signature carries a valid time-stamp from "{tsa}": it existed at {time}, and certificates were checked at that time.',
    id: 'Tanda tangan memuat cap waktu yang sah dari "{tsa}": tanda tangan sudah ada pada {time}, dan sertifikat diperiksa pada waktu itu.',
  },
  time_stamp_invalid: {
    en: 'The time-stamp on the signature is not valid ({problem}).',
    id: 'Cap waktu pada tanda tangan tidak sah ({problem}).',
  },
  time_stamp_untrusted: {
    en: 'The time-stamp on the signature is not from a trusted time-stamping authority ({problem}); its time was not used.',
    id: 'Cap waktu pada tanda tangan tidak berasal dari otoritas cap waktu (TSA) tepercaya ({problem}); waktunya tidak dipakai.',
  },
} as const satisfies Record<string, FindingText>;

export type FindingCode = keyof typeof findingTexts;

export type FindingDetails = Readonly<Record<string, string | number>>;

function fill(template: string, details: FindingDetails): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = details[name];
    return value === undefined ? whole : String(value);
  });
}

export function finding(code: FindingCode, details: FindingDetails = {}): Finding {
  const text: FindingText = findingTexts[code];
  return { code, en: fill(text.en, details), id: fill(text.id, details) };
}
