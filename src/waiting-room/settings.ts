/** Settings of waiting-room/; merged into the one configuration table in src/config.ts. */
import type { Setting } from '../config.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface WaitingRoomConfig {}

export const waitingRoomSettings: readonly Setting[] = [];
