/** Settings of overload/; merged into the one configuration table in src/config.ts. */
import type { Setting } from '../config.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface OverloadConfig {}

export const overloadSettings: readonly Setting[] = [];
