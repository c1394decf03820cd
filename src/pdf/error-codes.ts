/** Error codes of the pdf area; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const pdfErrorDefinitions = {
  PDF_EMPTY: {
    status: 422,
    id: 'Berkas yang diunggah kosong (0 bita). Unggah berkas PDF yang benar.',
    en: 'The uploaded file is empty (0 bytes). Upload the actual PDF file.',
  },
  PDF_NOT_PDF: {
    status: 415,
    id: 'Berkas ini bukan PDF (tidak ada kepala %PDF-). Simpan atau ekspor dokumen sebagai PDF lalu unggah ulang.',
    en: 'This file is not a PDF (no %PDF- header). Save or export the document as PDF and upload it again.',
  },
  PDF_DAMAGED: {
    status: 422,
    id: 'Berkas PDF rusak atau terpotong ({problem}). Unduh atau ekspor ulang PDF-nya lalu unggah kembali.',
    en: 'The PDF file is damaged or truncated ({problem}). Download or export the PDF again and upload it once more.',
  },
  PDF_TOO_LARGE: {
    status: 413,
    id: 'Berkas PDF berukuran {value} bita, melebihi batas {limit} bita. Perkecil berkasnya (misalnya kompres gambar) lalu unggah ulang.',
    en: 'The PDF is {value} bytes, over the limit of {limit} bytes. Make it smaller (for example, compress its images) and upload it again.',
  },
  PDF_TOO_MANY_OBJECTS: {
    status: 422,
    id: 'PDF memuat {value} objek, melebihi batas {limit}. Simpan ulang PDF-nya dengan aplikasi lain (misalnya "Cetak ke PDF") lalu unggah kembali.',
    en: 'The PDF holds {value} objects, over the limit of {limit}. Re-save it with another application (for example "Print to PDF") and upload it again.',
  },
  PDF_TOO_MANY_PAGES: {
    status: 422,
    id: 'PDF ini memiliki lebih dari {limit} halaman (batas layanan ini). Pisahkan halaman yang perlu dibubuhi meterai ke PDF yang lebih pendek lalu unggah kembali.',
    en: 'This PDF has more than {limit} pages (the limit of this service). Split the pages that need the e-meterai into a shorter PDF and upload it again.',
  },
  PDF_NESTING_TOO_DEEP: {
    status: 422,
    id: 'PDF memuat larik atau kamus yang bersarang lebih dari {limit} tingkat (pada bita {offset}); berkas ini tidak dapat diproses dengan aman. Simpan ulang PDF-nya dengan aplikasi lain.',
    en: 'The PDF holds arrays or dictionaries nested more than {limit} levels deep (at byte {offset}); it cannot be processed safely. Re-save it with another application.',
  },
  PDF_STREAM_TOO_LARGE: {
    status: 422,
    id: 'Sebuah aliran data di PDF mengembang melebihi batas {limit} bita. Simpan ulang PDF-nya dengan aplikasi lain lalu unggah kembali.',
    en: 'A data stream in the PDF expands beyond the limit of {limit} bytes. Re-save the PDF with another application and upload it again.',
  },
  PDF_DECODED_TOTAL_TOO_LARGE: {
    status: 422,
    id: 'Data PDF yang harus diurai melebihi batas total {limit} bita. Simpan ulang PDF-nya dengan aplikasi lain lalu unggah kembali.',
    en: 'The PDF data to be decoded exceeds the total limit of {limit} bytes. Re-save the PDF with another application and upload it again.',
  },
  PDF_PAGE_TREE_TOO_DEEP: {
    status: 422,
    id: 'Pohon halaman PDF lebih dalam dari {limit} tingkat. Simpan ulang PDF-nya dengan aplikasi lain lalu unggah kembali.',
    en: 'The PDF page tree is deeper than {limit} levels. Re-save the PDF with another application and upload it again.',
  },
  PDF_TIME_LIMIT: {
    status: 422,
    id: 'Membaca PDF ini memakan waktu lebih dari {limitMs} ms, jadi dihentikan. Simpan ulang PDF-nya dengan aplikasi lain lalu unggah kembali.',
    en: 'Reading this PDF took longer than {limitMs} ms, so it was stopped. Re-save the PDF with another application and upload it again.',
  },
  PDF_ENCRYPTED_UNSUPPORTED: {
    status: 422,
    id: 'PDF ini terenkripsi dan tidak dapat dibuka di sini. Hapus kata sandinya (simpan tanpa enkripsi) lalu unggah ulang.',
    en: 'This PDF is encrypted and cannot be opened here. Remove its password (save it without encryption) and upload it again.',
  },
  PDF_FILTER_UNSUPPORTED: {
    status: 422,
    id: 'PDF memakai penyandian aliran {filter} yang tidak didukung untuk bagian yang diperlukan. Simpan ulang PDF-nya dengan aplikasi lain lalu unggah kembali.',
    en: 'The PDF uses the stream encoding {filter}, which is not supported for a part that is needed. Re-save the PDF with another application and upload it again.',
  },
  PDF_PAGE_TREE_INVALID: {
    status: 422,
    id: 'Daftar halaman PDF tidak valid ({problem}). Simpan ulang PDF-nya dengan aplikasi lain lalu unggah kembali.',
    en: 'The page list of the PDF is invalid ({problem}). Re-save the PDF with another application and upload it again.',
  },
  PDF_PAGE_NOT_FOUND: {
    status: 400,
    id: 'Halaman {page} tidak ada; dokumen ini hanya memiliki {pageCount} halaman. Pilih halaman 1 sampai {pageCount}.',
    en: 'Page {page} does not exist; this document has {pageCount} pages. Choose a page from 1 to {pageCount}.',
  },
  SEAL_OUT_OF_PAGE: {
    status: 400,
    id: 'Posisi meterai tidak seluruhnya berada di halaman yang terlihat (lebar {pageWidthPt} pt, tinggi {pageHeightPt} pt). Pilih x, y dan ukuran agar kotaknya masuk di halaman.',
    en: 'The seal position is not fully on the visible page ({pageWidthPt} pt wide, {pageHeightPt} pt high). Choose x, y and size so the box fits on the page.',
  },
} as const satisfies Record<string, ErrorDefinition>;
