/**
 * What the `/P` permission flags of an encrypted document allow (ISO 32000-2 §7.6.4.2 Table 22), and
 * the rule bubuh applies before appending its signature to such a document.
 */

import type { SecurityHandler } from '../security.js';
import { hasPermission, permissionBits } from '../security.js';

export interface PermissionSummary {
  readonly print: boolean;
  readonly modify: boolean;
  readonly copy: boolean;
  readonly annotate: boolean;
  readonly fillForms: boolean;
  readonly extract: boolean;
  readonly assemble: boolean;
  readonly printHighQuality: boolean;
}

/**
 * The permissions of a `/P` value. Bits 9 to 12 exist only from revision 3 on; for revision 2 their
 * meaning is carried by the older bits (Table 22 notes): form filling by bit 6, assembly by bit 4,
 * accessibility extraction by bit 5 and full-quality printing by bit 3.
 */
export function describePermissions(permissions: number, revision = 3): PermissionSummary {
  const has = (position: number): boolean => hasPermission(permissions, position);
  const legacy = revision < 3;
  return {
    print: has(permissionBits.print),
    modify: has(permissionBits.modify),
    copy: has(permissionBits.copy),
    annotate: has(permissionBits.annotate),
    fillForms: legacy ? has(permissionBits.annotate) : has(permissionBits.fillForms),
    extract: legacy ? has(permissionBits.copy) : has(permissionBits.extract),
    assemble: legacy ? has(permissionBits.modify) : has(permissionBits.assemble),
    printHighQuality: legacy ? has(permissionBits.print) : has(permissionBits.printHighQuality),
  };
}

type PermissionView = Pick<SecurityHandler, 'ownerAuthenticated' | 'permissions' | 'revision'>;

/**
 * May bubuh append a NEW signature field with a visible widget (its e-meterai seal) to this document?
 *
 * Read literally, ISO 32000-2 Table 22 lets bit 6 "add or modify text annotations, fill in interactive
 * form fields, and, if bit 4 is also set, create or modify interactive form fields (including
 * signature fields)", while bit 9 only lets a user "fill in existing interactive form fields
 * (including signature fields)". So creating a field strictly needs bits 4 and 6. Real documents
 * that their owners mean to be signable do not set bit 4: qpdf's `--modify=annotate` and Acrobat's
 * "commenting, filling in form fields, and signing" both clear it (corpus file a37, `/P -1036`).
 *
 * bubuh therefore requires the owner password or bit 6. Bit 6 covers adding the widget annotation
 * itself and form filling, which is the whole visible effect of a signature appended in an incremental
 * update; the field it creates exists only to carry that signature. Bit 9 alone is not enough: it
 * grants filling fields that already exist and never adding an annotation, so an owner who chose
 * "form filling only" did not consent to a new seal on the page (see `canSignExistingField`). A
 * document with both bits clear (corpus a27, `--modify=none`, `/P -3372`) is refused.
 */
export function canSign(handler: PermissionView): boolean {
  return handler.ownerAuthenticated || hasPermission(handler.permissions, permissionBits.annotate);
}

/**
 * May bubuh sign an EXISTING empty signature field (no new annotation)? Bit 6 or, from revision 3 on,
 * bit 9 allows filling in existing form fields including signature fields.
 */
export function canSignExistingField(handler: PermissionView): boolean {
  if (canSign(handler)) return true;
  return handler.revision >= 3 && hasPermission(handler.permissions, permissionBits.fillForms);
}
