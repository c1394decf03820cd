/** Settings of cluster/; merged into the one configuration table in src/config.ts. */
import type { Setting } from '../config.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ClusterConfig {}

export const clusterSettings: readonly Setting[] = [];
