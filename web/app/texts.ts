/**
 * Every word the web app shows, in Bahasa Indonesia (the default) and English. One table, so a
 * translator sees everything in one place; the type makes both languages required for every key, and a
 * test checks that each pair names the same `{placeholders}`. This file imports nothing: the test loads
 * it on its own.
 */
export type Language = 'id' | 'en';
export const languages: readonly Language[] = ['id', 'en'];
export type Text = Readonly<Record<Language, string>>;

export const texts = {
  // Frame
  skip: { id: 'Langsung ke isi', en: 'Skip to content' },
  brandTag: { id: 'e-meterai', en: 'e-meterai' },
  languageSwitch: { id: 'English', en: 'Bahasa Indonesia' },
  languageSwitchLabel: { id: 'Ganti bahasa ke English', en: 'Switch language to Bahasa Indonesia' },
  navLabel: { id: 'Menu utama', en: 'Main menu' },
  navQuota: { id: 'Kuota', en: 'Quota' },
  navStamp: { id: 'Bubuhkan', en: 'Stamp' },
  navHistory: { id: 'Riwayat', en: 'History' },
  navVerify: { id: 'Periksa', en: 'Verify' },
  navOperator: { id: 'Operator', en: 'Operator' },
  signOut: { id: 'Keluar', en: 'Sign out' },
  loading: { id: 'Memuat …', en: 'Loading …' },
  notFoundTitle: { id: 'Halaman tidak ditemukan', en: 'Page not found' },
  notFoundBody: { id: 'Alamat ini tidak ada di aplikasi.', en: 'This address does not exist in the app.' },
  backHome: { id: 'Kembali ke kuota', en: 'Back to quota' },
  networkError: {
    id: 'Server tidak dapat dihubungi. Periksa koneksi internet Anda lalu coba lagi.',
    en: 'The server cannot be reached. Check your internet connection and try again.',
  },
  unexpectedAnswer: {
    id: 'Server memberi jawaban yang tidak dikenal (HTTP {status}). Coba lagi sebentar lagi.',
    en: 'The server gave an unknown answer (HTTP {status}). Try again in a moment.',
  },
  sessionEnded: {
    id: 'Sesi Anda sudah berakhir. Silakan masuk lagi.',
    en: 'Your session has ended. Please sign in again.',
  },
  footer: {
    id: 'bubuh — platform terbuka e-meterai. Berkas yang Anda periksa di halaman Periksa tidak dikirim ke mana pun.',
    en: 'bubuh — an open e-meterai platform. Files you check on the Verify page are not sent anywhere.',
  },

  // Sign-in
  signInTitle: { id: 'Masuk', en: 'Sign in' },
  signInIntro: {
    id: 'Masuk dengan nomor WhatsApp Anda. Kami mengirim kode 6 angka; tidak ada kata sandi.',
    en: 'Sign in with your WhatsApp number. We send a 6-digit code; there is no password.',
  },
  phoneLabel: { id: 'Nomor WhatsApp', en: 'WhatsApp number' },
  phoneHint: { id: 'Contoh: 0812 3456 7890', en: 'For example: 0812 3456 7890' },
  sendCode: { id: 'Kirim kode', en: 'Send code' },
  sendingCode: { id: 'Mengirim kode …', en: 'Sending the code …' },
  codeSent: {
    id: 'Kode dikirim ke WhatsApp {phone}. Kode berlaku 5 menit.',
    en: 'The code was sent to WhatsApp {phone}. It is valid for 5 minutes.',
  },
  codeLabel: { id: 'Kode 6 angka', en: '6-digit code' },
  signIn: { id: 'Masuk', en: 'Sign in' },
  signingIn: { id: 'Memeriksa kode …', en: 'Checking the code …' },
  changeNumber: { id: 'Ganti nomor', en: 'Use another number' },
  resendCode: { id: 'Kirim ulang kode', en: 'Send the code again' },
  devBannerTitle: { id: 'Mode pengembangan', en: 'Development mode' },
  devBannerBody: {
    id: 'Kode masuk tidak dikirim lewat WhatsApp. Server menuliskannya ke berkas {outbox} di direktori data.',
    en: 'Sign-in codes are not sent over WhatsApp. The server writes them to the file {outbox} in its data directory.',
  },
  devBannerOther: {
    id: 'Kode masuk dikirim lewat saluran WhatsApp HTTP yang dikonfigurasi.',
    en: 'Sign-in codes go through the configured WhatsApp HTTP channel.',
  },
  devBannerCode: { id: 'Kode terbaru untuk {phone}:', en: 'Latest code for {phone}:' },
  devBannerWaiting: {
    id: 'Belum ada kode untuk nomor ini.',
    en: 'No code for this number yet.',
  },

  // Quota and orders
  quotaTitle: { id: 'Kuota e-meterai', en: 'E-meterai quota' },
  quotaAvailable: { id: 'Tersedia', en: 'Available' },
  quotaUnits: { id: '{count} meterai', en: '{count} e-meterai' },
  quotaPending: {
    id: '{count} sedang dipakai untuk pembubuhan yang berjalan.',
    en: '{count} in use by stamps in progress.',
  },
  signedInAs: { id: 'Masuk sebagai {phone}', en: 'Signed in as {phone}' },
  stampNow: { id: 'Bubuhkan meterai', en: 'Stamp a document' },
  buyTitle: { id: 'Beli kuota', en: 'Buy quota' },
  buyQuantityLabel: { id: 'Jumlah meterai', en: 'Number of e-meterai' },
  buyQuantityHint: {
    id: '1 sampai 1.000. Bea meterai Rp10.000 per meterai, ditambah biaya layanan kanal bila ada. Rinciannya tampil sebelum Anda membayar.',
    en: '1 to 1,000. Stamp duty is Rp10,000 each, plus the channel’s service fee if any. The breakdown is shown before you pay.',
  },
  buySubmit: { id: 'Buat pesanan', en: 'Create order' },
  buying: { id: 'Membuat pesanan …', en: 'Creating the order …' },
  quantityInvalid: {
    id: 'Isi jumlah bilangan bulat dari 1 sampai 1.000.',
    en: 'Enter a whole number from 1 to 1,000.',
  },
  ordersTitle: { id: 'Pesanan Anda', en: 'Your orders' },
  ordersEmpty: { id: 'Belum ada pesanan.', en: 'No orders yet.' },
  orderSummary: {
    id: '{quantity} meterai · {amount} · {date}',
    en: '{quantity} e-meterai · {amount} · {date}',
  },
  loadMore: { id: 'Muat lebih banyak', en: 'Load more' },

  orderTitle: { id: 'Pesanan', en: 'Order' },
  orderNumber: { id: 'Nomor pesanan', en: 'Order number' },
  orderStatus: { id: 'Status', en: 'Status' },
  statusAwaitingPayment: { id: 'Menunggu pembayaran', en: 'Awaiting payment' },
  statusPaid: { id: 'Lunas', en: 'Paid' },
  statusExpired: { id: 'Kedaluwarsa — tidak ada yang ditagihkan', en: 'Expired — nothing was charged' },
  statusPartiallyRefunded: { id: 'Lunas, sebagian dana dikembalikan', en: 'Paid, partly refunded' },
  statusRefunded: { id: 'Dana dikembalikan', en: 'Refunded' },
  breakdownCaption: { id: 'Rincian harga', en: 'Price breakdown' },
  breakdownDuty: { id: 'Bea meterai ({quantity} × {unit})', en: 'Stamp duty ({quantity} × {unit})' },
  breakdownFee: { id: 'Biaya layanan ({quantity} × {unit})', en: 'Service fee ({quantity} × {unit})' },
  breakdownTotal: { id: 'Total', en: 'Total' },
  payLink: { id: 'Bayar {amount} di halaman pembayaran', en: 'Pay {amount} on the payment page' },
  payNewTab: { id: '(membuka tab baru)', en: '(opens a new tab)' },
  payWaiting: {
    id: 'Setelah membayar, kembali ke halaman ini: statusnya diperbarui sendiri.',
    en: 'After paying, come back to this page: it updates by itself.',
  },
  payBefore: { id: 'Bayar sebelum {time}.', en: 'Pay before {time}.' },
  paidCredited: {
    id: 'Pembayaran diterima. Kuota Anda sekarang {count} meterai.',
    en: 'Payment received. Your quota is now {count} e-meterai.',
  },
  receiptDownload: { id: 'Unduh kuitansi bertanda tangan', en: 'Download the signed receipt' },
  receiptHint: {
    id: 'Kuitansi ditandatangani secara digital oleh platform (CMS), dapat diperiksa dengan OpenSSL.',
    en: 'The receipt is digitally signed by the platform (CMS) and can be checked with OpenSSL.',
  },
  refundTitle: { id: 'Kembalikan kuota yang belum dipakai', en: 'Return unused quota' },
  refundIntro: {
    id: 'Meterai yang belum dipakai dapat dikembalikan dengan uang kembali. Pemakaian dihitung dari pembelian terlama, jadi yang belum dipakai adalah pembelian terbaru.',
    en: 'Unused e-meterai can be returned for your money back. Stamps use the oldest purchase first, so the unused ones are the newest purchases.',
  },
  refundQuantityLabel: { id: 'Jumlah yang dikembalikan', en: 'Number to return' },
  refundSubmit: { id: 'Minta pengembalian dana', en: 'Request a refund' },
  refunding: { id: 'Meminta pengembalian …', en: 'Requesting the refund …' },
  refundDone: {
    id: 'Pengembalian {quantity} meterai ({amount}) tercatat: {status}.',
    en: 'The refund of {quantity} e-meterai ({amount}) is recorded: {status}.',
  },
  refundRequested: { id: 'sedang diproses', en: 'in progress' },
  refundSucceeded: { id: 'dana sudah dikembalikan', en: 'the money was returned' },
  refundFailed: {
    id: 'belum berhasil, dicoba lagi otomatis',
    en: 'not yet done, retried automatically',
  },

  // Stamp
  stampTitle: { id: 'Bubuhkan e-meterai', en: 'Stamp a document' },
  stampQuota: {
    id: 'Kuota Anda: {count} meterai. Satu pembubuhan memakai 1.',
    en: 'Your quota: {count} e-meterai. One stamp uses 1.',
  },
  stampNoQuota: {
    id: 'Kuota Anda habis. Beli kuota dulu sebelum membubuhkan.',
    en: 'You have no quota left. Buy quota before stamping.',
  },
  fileLabel: { id: 'Berkas PDF', en: 'PDF file' },
  fileHint: { id: 'Paling besar 20 MB.', en: 'At most 20 MB.' },
  docTypeLabel: { id: 'Jenis dokumen', en: 'Document type' },
  docTypeChoose: { id: 'Pilih jenis dokumen', en: 'Choose a document type' },
  docNumberLabel: { id: 'Nomor dokumen (boleh kosong)', en: 'Document number (optional)' },
  docDateLabel: { id: 'Tanggal dokumen (boleh kosong)', en: 'Document date (optional)' },
  passwordLabel: { id: 'Kata sandi dokumen', en: 'Document password' },
  passwordNeeded: {
    id: 'Dokumen ini dilindungi kata sandi. Masukkan kata sandinya untuk melihat dan membubuhkan.',
    en: 'This document is password-protected. Enter its password to see and stamp it.',
  },
  passwordWrong: { id: 'Kata sandi salah. Coba lagi.', en: 'Wrong password. Try again.' },
  passwordOpen: { id: 'Buka', en: 'Open' },
  previewLoading: { id: 'Menampilkan halaman …', en: 'Showing the page …' },
  previewFailed: {
    id: 'Pratinjau tidak dapat ditampilkan ({problem}). Anda tetap dapat membubuhkan: meterai diletakkan di kanan bawah halaman.',
    en: 'The preview cannot be shown ({problem}). You can still stamp: the seal goes to the bottom right of the page.',
  },
  previewLabel: { id: 'Pratinjau halaman {page}', en: 'Preview of page {page}' },
  pageLabel: { id: 'Halaman', en: 'Page' },
  pageOf: { id: 'Halaman {page} dari {count}', en: 'Page {page} of {count}' },
  previousPage: { id: 'Halaman sebelumnya', en: 'Previous page' },
  nextPage: { id: 'Halaman berikutnya', en: 'Next page' },
  sealLabel: {
    id: 'Meterai. Seret, atau pindahkan dengan tombol panah (Shift untuk langkah besar).',
    en: 'Seal. Drag it, or move it with the arrow keys (Shift for big steps).',
  },
  sealPosition: {
    id: 'Meterai {size} pt, {x} pt dari kiri dan {y} pt dari bawah.',
    en: 'Seal {size} pt, {x} pt from the left and {y} pt from the bottom.',
  },
  sizeLabel: { id: 'Ukuran meterai (pt)', en: 'Seal size (pt)' },
  sizeHint: { id: 'Dari {min} sampai {max} pt.', en: 'From {min} to {max} pt.' },
  sealOffPage: {
    id: 'Meterai keluar dari halaman. Geser seluruhnya ke dalam halaman sebelum membubuhkan.',
    en: 'The seal is off the page. Move it fully onto the page before stamping.',
  },
  sealOverText: {
    id: 'Meterai tampaknya menutupi tulisan. Periksa letaknya; Anda tetap dapat membubuhkan.',
    en: 'The seal seems to cover text. Check where it sits; you can still stamp.',
  },
  stampSubmit: { id: 'Bubuhkan meterai (1 kuota)', en: 'Stamp (1 quota)' },
  stamping: {
    id: 'Membubuhkan meterai … jangan tutup halaman ini.',
    en: 'Stamping … do not close this page.',
  },
  retry: { id: 'Coba lagi', en: 'Try again' },
  retryHint: {
    id: 'Mencoba lagi aman: permintaan yang sama tidak akan memakai kuota dua kali.',
    en: 'Trying again is safe: the same request never uses quota twice.',
  },
  stampedTitle: { id: 'Berhasil dibubuhkan', en: 'Stamped' },
  stampedSerial: { id: 'Nomor seri', en: 'Serial' },
  stampedKept: {
    id: 'Berkas bermeterai dapat diunduh lagi dari Riwayat sampai {time}.',
    en: 'The stamped file can be downloaded again from History until {time}.',
  },
  download: { id: 'Unduh berkas bermeterai', en: 'Download the stamped file' },
  downloading: { id: 'Mengunduh …', en: 'Downloading …' },
  verifyLink: { id: 'Periksa keaslian dokumen', en: 'Check the document' },
  verifyLinkHint: {
    id: 'Pemeriksaan berjalan di perangkat Anda; berkas tidak dikirim ke mana pun.',
    en: 'The check runs on your device; the file is not sent anywhere.',
  },
  serialPageLink: { id: 'Catatan nomor seri', en: 'Serial record' },
  stampAnother: { id: 'Bubuhkan berkas lain', en: 'Stamp another file' },
  stampRefunded: { id: 'Gagal — kuota dikembalikan otomatis', en: 'Failed — quota refunded automatically' },
  stampRefused: { id: 'Meterai tidak dibubuhkan', en: 'Not stamped' },
  stampRefusedQuota: { id: 'Kuota Anda tidak terpakai.', en: 'No quota was used.' },
  reasonLabel: { id: 'Alasan', en: 'Reason' },

  // History
  historyTitle: { id: 'Riwayat pembubuhan', en: 'Stamp history' },
  historyEmpty: { id: 'Belum ada pembubuhan.', en: 'No stamps yet.' },
  historyStamped: { id: 'Berhasil', en: 'Succeeded' },
  historyRefunded: { id: 'Gagal — kuota dikembalikan otomatis', en: 'Failed — quota refunded automatically' },
  historyPending: { id: 'Sedang diproses', en: 'In progress' },
  historyCreated: { id: 'Dikirim {time}', en: 'Sent {time}' },
  historyKeptUntil: { id: 'Dapat diunduh sampai {time}', en: 'Downloadable until {time}' },
  historyGone: {
    id: 'Berkas sudah dihapus karena masa simpan berakhir; meterainya tetap sah.',
    en: 'The file was deleted after its retention ended; the e-meterai stays valid.',
  },
  historyReason: { id: 'Alasan: {reason}', en: 'Reason: {reason}' },
  historyPage: { id: 'halaman {page}', en: 'page {page}' },

  // Refund reasons shown in the history (the API gives only the code there).
  reasonGeneric: { id: 'kode {code}', en: 'code {code}' },
  reasonPdfDamaged: {
    id: 'berkas PDF rusak atau terpotong',
    en: 'the PDF file is damaged or truncated',
  },
  reasonPdfInvalid: { id: 'berkas bukan PDF yang dapat dibaca', en: 'the file is not a readable PDF' },
  reasonPassword: {
    id: 'kata sandi dokumen diperlukan atau salah',
    en: 'the document password is missing or wrong',
  },
  reasonOutOfPage: { id: 'meterai di luar halaman', en: 'the seal was off the page' },
  reasonBusy: { id: 'layanan sedang penuh', en: 'the service was busy' },
  reasonInterrupted: { id: 'layanan dimulai ulang', en: 'the service restarted' },

  // Waiting room
  queueTitle: { id: 'Anda dalam antrean', en: 'You are in the queue' },
  queueNone: { id: 'Anda tidak sedang mengantre.', en: 'You are not in a queue.' },
  queueIntro: {
    id: 'Layanan sedang ramai. Tempat Anda dijaga; halaman ini berlanjut sendiri saat giliran Anda tiba.',
    en: 'The service is busy. Your place is kept; this page continues by itself when your turn comes.',
  },
  queuePosition: { id: 'Posisi Anda: {position}', en: 'Your position: {position}' },
  queueWait: {
    id: 'Perkiraan menunggu: sekitar {minutes} menit.',
    en: 'Estimated wait: about {minutes} min.',
  },
  queueKeep: {
    id: 'Memuat ulang halaman tidak menghilangkan tempat Anda.',
    en: 'Reloading the page does not lose your place.',
  },
  queueChecked: { id: 'Diperbarui {time}', en: 'Updated {time}' },
  queueRefresh: { id: 'Perbarui sekarang', en: 'Refresh now' },

  // Operator dashboard
  operatorTitle: { id: 'Dasbor operator', en: 'Operator dashboard' },
  operatorOnly: {
    id: 'Halaman ini hanya untuk operator platform.',
    en: 'This page is for platform operators only.',
  },
  operatorIntro: {
    id: 'Angka node ini, serta stok dan pesanan seluruh platform; diperbarui setiap {seconds} detik.',
    en: 'This node’s figures, with the whole platform’s stock and orders; updated every {seconds} seconds.',
  },
  operatorNotReported: { id: 'tidak dilaporkan', en: 'not reported' },
  operatorStampsRate: { id: 'Pembubuhan per detik', en: 'Stamps per second' },
  operatorChartLabel: {
    id: 'Grafik pembubuhan per detik, dua menit terakhir',
    en: 'Chart of stamps per second, last two minutes',
  },
  operatorQueue: { id: 'Antrean', en: 'Queues' },
  operatorQueueAdmission: { id: 'Antrean penerimaan', en: 'Admission queue' },
  operatorQueueStamp: { id: 'Antrean pembubuhan', en: 'Stamping queue' },
  operatorQueueWait: { id: 'Tunggu (p50 / p99)', en: 'Wait (p50 / p99)' },
  operatorRunning: { id: 'Sedang berjalan', en: 'Running' },
  operatorClasses: { id: 'Diterima dan ditolak per kelas', en: 'Admitted and refused by class' },
  operatorClass: { id: 'Kelas', en: 'Class' },
  operatorAdmitted: { id: 'Diterima', en: 'Admitted' },
  operatorRefused: { id: 'Ditolak', en: 'Refused' },
  operatorRefunds: { id: 'Pengembalian kuota per alasan', en: 'Quota refunds by reason' },
  operatorNoRefunds: { id: 'Belum ada pengembalian.', en: 'No refunds yet.' },
  operatorCommerce: { id: 'Penjualan', en: 'Sales' },
  operatorStock: { id: 'Stok', en: 'Stock' },
  operatorAwaiting: { id: 'Pesanan menunggu pembayaran', en: 'Orders awaiting payment' },
  operatorAwaitingValue: { id: '{orders} pesanan ({units} meterai)', en: '{orders} orders ({units} units)' },
  operatorAwaitingShort: { id: 'Menunggu bayar', en: 'Awaiting payment' },
  operatorStockUnallocated: { id: 'Stok belum dialokasikan', en: 'Unallocated stock' },
  operatorChannel: { id: 'Kanal', en: 'Channel' },
  operatorWaitValue: { id: '{p50} / {p99} ms', en: '{p50} / {p99} ms' },
  operatorRefusedDetail: {
    id: 'antrean penuh {queue_full} · tenggat lewat {deadline} · dipangkas {shed} · server sibuk {busy}',
    en: 'queue full {queue_full} · deadline passed {deadline} · shed {shed} · server busy {busy}',
  },
  operatorClassFinishing: { id: 'Penyelesaian', en: 'Finishing' },
  operatorClassStamp: { id: 'Pembubuhan', en: 'Stamping' },
  operatorClassVerify: { id: 'Verifikasi', en: 'Verification' },
  operatorClassOrder: { id: 'Pesanan', en: 'Orders' },
  operatorClassSignup: { id: 'Pendaftaran dan masuk', en: 'Sign-up and sign-in' },
  operatorRoom: { id: 'Ruang tunggu', en: 'Waiting room' },
  operatorRoomOff: { id: 'Ruang tunggu tidak aktif.', en: 'The waiting room is off.' },
  operatorRoomWaiting: { id: 'Menunggu', en: 'Waiting' },
  operatorRoomAdmitted: { id: 'Masuk', en: 'Admitted' },
  operatorRoomAdmittedValue: { id: '{admitted} dari {capacity}', en: '{admitted} of {capacity}' },
} as const satisfies Record<string, Text>;

export type TextKey = keyof typeof texts;

/** `texts[key]` in `language` with `{name}` placeholders filled from `values`. */
export function format(
  language: Language,
  key: TextKey,
  values: Readonly<Record<string, string | number>> = {},
): string {
  return texts[key][language].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  );
}
