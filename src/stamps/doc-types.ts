/**
 * The kinds of document that carry stamp duty (UU 10/2020 Pasal 3), as integrators name them. Each
 * stamp records its kind, the document's number and its date; the kind also goes into /Reason.
 */
export interface DocType {
  readonly code: string;
  readonly id: string;
  readonly en: string;
}

export const docTypes: readonly DocType[] = Object.freeze([
  { code: 'surat_perjanjian', id: 'Surat Perjanjian', en: 'Agreement' },
  { code: 'surat_pernyataan', id: 'Surat Pernyataan', en: 'Statement letter' },
  { code: 'surat_keterangan', id: 'Surat Keterangan', en: 'Certificate letter' },
  { code: 'akta_notaris', id: 'Akta Notaris', en: 'Notarial deed' },
  { code: 'akta_ppat', id: 'Akta PPAT', en: 'Land deed (PPAT)' },
  { code: 'surat_berharga', id: 'Surat Berharga', en: 'Security' },
  { code: 'dokumen_lelang', id: 'Dokumen Lelang', en: 'Auction document' },
  {
    code: 'dokumen_transaksi',
    id: 'Dokumen Transaksi Uang > Rp5 juta',
    en: 'Document of a money amount over Rp5 million',
  },
  {
    code: 'dokumen_pengadilan',
    id: 'Dokumen Alat Bukti di Pengadilan',
    en: 'Document used as court evidence',
  },
  { code: 'dokumen_lain', id: 'Dokumen Lain', en: 'Other document' },
]);

const byCode = new Map(docTypes.map((type) => [type.code, type]));

export function docTypeOf(code: string): DocType | undefined {
  return byCode.get(code);
}
