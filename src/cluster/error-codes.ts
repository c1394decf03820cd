/** Error codes of cluster/; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const clusterErrorDefinitions = {
  CLUSTER_PKI_LOCKED: {
    status: 503,
    id: 'Node lain sedang membuat PKI bersama di {path} dan belum selesai dalam {seconds} detik. Jika tidak ada node yang sedang mulai, hapus {lock} lalu jalankan lagi.',
    en: 'Another node is creating the shared PKI in {path} and has not finished within {seconds} seconds. If no node is starting, delete {lock} and start again.',
  },
  CLUSTER_DRAINING: {
    status: 503,
    id: 'Node {node} sedang berhenti dan tidak menerima pekerjaan baru; penyeimbang beban akan mengirim ke node lain.',
    en: 'Node {node} is stopping and takes no new work; the load balancer will send to another node.',
  },
  CLUSTER_FILE_NOT_SHARED: {
    status: 503,
    id: 'Berkas bermeterai ini tidak ada di direktori berkas node {node}, padahal masa simpannya belum habis: kemungkinan node lain yang membuatnya dan direktori berkas tidak dibagi. Coba lagi nanti; operator: setel BUBUH_FILES_DIR yang sama untuk semua node.',
    en: "This stamped file is not in node {node}'s files directory although its retention has not ended: another node probably made it and the files directory is not shared. Try again later; operators: give every node the same BUBUH_FILES_DIR.",
  },
} as const satisfies Record<string, ErrorDefinition>;
