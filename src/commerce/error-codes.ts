/** Error codes of stock, orders, payments and refunds (commerce/); merged into src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const commerceErrorDefinitions = {
  ORDER_QUANTITY_INVALID: {
    status: 400,
    id: 'Jumlah e-meterai harus bilangan bulat dari {min} sampai {max}, bukan {quantity}.',
    en: 'The quantity must be a whole number from {min} to {max}, not {quantity}.',
  },
  ORDER_STOCK_INSUFFICIENT: {
    status: 409,
    id: 'Stok e-meterai kanal {channel} tidak cukup untuk {quantity} unit ({available} tersedia). Kurangi jumlahnya atau coba lagi nanti.',
    en: 'Channel {channel} does not have {quantity} e-meterai in stock ({available} available). Order fewer or try again later.',
  },
  ORDER_NOT_FOUND: {
    status: 404,
    id: 'Pesanan {order} tidak ditemukan di akun Anda.',
    en: 'Order {order} was not found in your account.',
  },
  CHANNEL_NOT_FOUND: {
    status: 404,
    id: 'Kanal penjualan {channel} tidak ada.',
    en: 'There is no sales channel {channel}.',
  },
  STOCK_INSUFFICIENT: {
    status: 409,
    id: 'Stok {account} tidak cukup untuk {quantity} unit ({available} tersedia).',
    en: '{account} does not hold {quantity} units ({available} available).',
  },
  PAYMENT_GATEWAY_NOT_CONFIGURED: {
    status: 503,
    id: 'Pembayaran belum dapat diterima: gerbang pembayaran {gateway} belum dikonfigurasi ({problem}).',
    en: 'Payments cannot be taken yet: the {gateway} payment gateway is not configured ({problem}).',
  },
  PAYMENT_GATEWAY_UNAVAILABLE: {
    status: 502,
    id: 'Gerbang pembayaran tidak dapat dihubungi ({problem}). Tidak ada yang ditagihkan; coba lagi sebentar lagi.',
    en: 'The payment gateway cannot be reached ({problem}). Nothing was charged; try again shortly.',
  },
  PAYMENT_NOTIFICATION_INVALID: {
    status: 400,
    id: 'Notifikasi pembayaran tidak valid: {problem}.',
    en: 'The payment notification is not valid: {problem}.',
  },
  PAYMENT_SIGNATURE_INVALID: {
    status: 403,
    id: 'Tanda tangan notifikasi pembayaran untuk pesanan {order} salah; notifikasi ditolak dan dicatat.',
    en: 'The payment notification for order {order} has a wrong signature; it was refused and logged.',
  },
  PAYMENT_AMOUNT_MISMATCH: {
    status: 400,
    id: 'Jumlah pembayaran {received} tidak sama dengan tagihan pesanan {order} ({expected}); notifikasi ditolak dan dicatat.',
    en: 'The paid amount {received} differs from the amount of order {order} ({expected}); the notification was refused and logged.',
  },
  REFUND_QUANTITY_INVALID: {
    status: 400,
    id: 'Jumlah pengembalian harus bilangan bulat dari 1 sampai {max}, bukan {quantity}.',
    en: 'The refund quantity must be a whole number from 1 to {max}, not {quantity}.',
  },
  REFUND_ORDER_NOT_PAID: {
    status: 409,
    id: 'Pesanan {order} berstatus {status}; hanya pesanan yang sudah dibayar yang dapat dikembalikan dananya.',
    en: 'Order {order} is {status}; only paid orders can be refunded.',
  },
  REFUND_QUOTA_UNAVAILABLE: {
    status: 409,
    id: 'Hanya {available} e-meterai dari pesanan {order} yang belum terpakai; tidak dapat mengembalikan {quantity}.',
    en: 'Only {available} e-meterai from order {order} are unused; {quantity} cannot be refunded.',
  },
  REFUND_NOT_FOUND: {
    status: 404,
    id: 'Pengembalian dana {refund} tidak ditemukan di akun Anda.',
    en: 'Refund {refund} was not found in your account.',
  },
  REFUND_BUSY: {
    status: 409,
    id: 'Pengembalian lain untuk pesanan {order} sedang diproses. Coba lagi sebentar lagi.',
    en: 'Another refund of order {order} is being processed. Try again shortly.',
  },
  RECEIPT_NOT_AVAILABLE: {
    status: 409,
    id: 'Pesanan {order} berstatus {status}; bukti pembelian ada setelah pembayaran diterima.',
    en: 'Order {order} is {status}; a receipt exists once the payment is received.',
  },
} as const satisfies Record<string, ErrorDefinition>;
