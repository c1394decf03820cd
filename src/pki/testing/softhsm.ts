/**
 * Test and benchmark only: throw-away SoftHSM2 tokens. A temporary directory holds the tokens and a
 * `softhsm2.conf` naming it; SOFTHSM2_CONF is set in this process's environment BEFORE the module is
 * loaded (SoftHSM2 reads it in C_Initialize), and `softhsm2-util --init-token --free` makes each token.
 * Nothing touches the machine's own token directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian, Ubuntu, Fedora and source builds put the module; SOFTHSM2_MODULE overrides. */
const MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

export const TEST_SO_PIN = '87654321';

/** The SoftHSM2 module on this machine, or null. */
export function softHsmModulePath(): string | null {
  const configured = process.env['SOFTHSM2_MODULE'];
  if (configured !== undefined && configured !== '') return existsSync(configured) ? configured : null;
  return MODULE_CANDIDATES.find((path) => existsSync(path)) ?? null;
}

/** Null when SoftHSM2 can run here; otherwise why the PKCS#11 checks are skipped. */
export function softHsmSkipReason(): string | null {
  const probe = spawnSync('softhsm2-util', ['--version'], { stdio: 'ignore', timeout: 10_000 });
  if (probe.status !== 0) {
    return 'softhsm2-util is not installed (Debian package "softhsm2"); the PKCS#11 key store checks were skipped';
  }
  if (softHsmModulePath() === null) {
    return 'the SoftHSM2 module libsofthsm2.so was not found (Debian package "softhsm2", or set SOFTHSM2_MODULE); the PKCS#11 key store checks were skipped';
  }
  return null;
}

export interface SoftHsmTokens {
  readonly modulePath: string;
  /** The configuration file SOFTHSM2_CONF names. */
  readonly configPath: string;
  /** Initialises a fresh token in the directory; call before the first store is opened. */
  initToken(label: string, pin: string): void;
  /**
   * Writes another configuration file over the same tokens (extra `key = value` lines, e.g.
   * `slots.mechanisms = …`) and points SOFTHSM2_CONF at it; it applies from the next C_Initialize.
   */
  useConfig(extraLines: readonly string[]): void;
  /** Deletes the tokens and configuration and restores SOFTHSM2_CONF. */
  remove(): void;
}

/** A temporary token directory with SOFTHSM2_CONF pointing at it. Check `softHsmSkipReason` first. */
export function createSoftHsmTokens(prefix = 'bubuh-softhsm-'): SoftHsmTokens {
  const modulePath = softHsmModulePath();
  if (modulePath === null) throw new Error('SoftHSM2 is not installed: check softHsmSkipReason() first');
  const directory = mkdtempSync(join(tmpdir(), prefix));
  const tokenDirectory = join(directory, 'tokens');
  mkdirSync(tokenDirectory, { mode: 0o700 });
  const previous = process.env['SOFTHSM2_CONF'];
  let configCount = 0;
  let configPath = '';
  const writeConfig = (extraLines: readonly string[]): string => {
    configCount += 1;
    const path = join(directory, `softhsm2-${configCount}.conf`);
    const lines = [
      `directories.tokendir = ${tokenDirectory}`,
      'objectstore.backend = file',
      'log.level = ERROR',
      'slots.removable = false',
      ...extraLines,
    ];
    writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
    process.env['SOFTHSM2_CONF'] = path;
    return path;
  };
  configPath = writeConfig([]);
  return {
    modulePath,
    get configPath() {
      return configPath;
    },
    initToken(label: string, pin: string): void {
      const result = spawnSync(
        'softhsm2-util',
        ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', TEST_SO_PIN],
        { encoding: 'utf8', timeout: 30_000, env: { ...process.env, SOFTHSM2_CONF: configPath } },
      );
      if (result.status !== 0) {
        throw new Error(`softhsm2-util --init-token ${label} failed: ${result.stdout}${result.stderr}`);
      }
    },
    useConfig(extraLines: readonly string[]): void {
      configPath = writeConfig(extraLines);
    },
    remove(): void {
      if (previous === undefined) delete process.env['SOFTHSM2_CONF'];
      else process.env['SOFTHSM2_CONF'] = previous;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
