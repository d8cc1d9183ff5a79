/**
 * `data status`: where each dataset is found and whether its files pass their checksums. Never downloads and
 * never throws for a missing or bad file: it reports.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DATASET_NAMES, type DatasetName, type FileRole, FILE_ROLES, datasetSpec } from './catalog.js';
import { type DataOptions, type Location, type LocationScan, cacheDirFor, locateDataset } from './resolve.js';
import { type VerifiedAs, verifyBytes } from './verify.js';

/** The state of one file of the dataset's chosen location. */
export interface FileStatus {
  /** Role of the file. */
  readonly role: FileRole;
  /** Its path, when found. */
  readonly path?: string;
  /** `ok`: matches the known hash; `bad`: checksum mismatch or unreadable; `unchecked`: found, not hashed; `missing`. */
  readonly state: 'ok' | 'bad' | 'unchecked' | 'missing';
  /** How it matched (raw, canonical gzip, or gzip whose content matched). */
  readonly verifiedAs?: VerifiedAs;
  /** SHA-256 of the file as stored, when hashed. */
  readonly sha256?: string;
  /** What is wrong, for `bad`. */
  readonly message?: string;
}

/** The status of one dataset. */
export interface DatasetStatus {
  /** The dataset. */
  readonly name: DatasetName;
  /** The location that would be used (the first holding all four files), if any. */
  readonly source?: Location;
  /** Every location looked at, in search order, and what each holds. */
  readonly locations: readonly LocationScan[];
  /** The files of the chosen location (or all `missing`). */
  readonly files: readonly FileStatus[];
  /** True when found and every file checked out (or was not to be checked). */
  readonly ok: boolean;
  /** Where a download would put it when not found. */
  readonly downloadDir: string;
}

/** Options of {@link dataStatus}. */
export interface DataStatusOptions extends DataOptions {
  /** Datasets to report on (default all). */
  names?: readonly DatasetName[];
}

/**
 * Report where each dataset is found and whether its files pass their SHA-256 checks (hashing them all:
 * about 110 MB per dataset when raw).
 * @example
 * for (const s of dataStatus()) console.log(s.name, s.source?.kind ?? 'not found', s.ok);
 */
export function dataStatus(opts: DataStatusOptions = {}): DatasetStatus[] {
  const verify = opts.verify ?? true;
  return (opts.names ?? DATASET_NAMES).map((name) => {
    const spec = datasetSpec(name, opts.catalog);
    const { found, scans } = locateDataset(name, opts);
    const downloadDir = cacheDirFor(name, opts);
    if (!found) {
      return { name, locations: scans, files: FILE_ROLES.map((role) => ({ role, state: 'missing' as const })), ok: false, downloadDir };
    }
    const files = FILE_ROLES.map((role): FileStatus => {
      const path = found.files[role];
      if (!existsSync(path)) return { role, path, state: 'missing' };
      try {
        const v = verifyBytes(readFileSync(path), spec.files[role], path, verify);
        return { role, path, state: verify ? 'ok' : 'unchecked', verifiedAs: v.verifiedAs, sha256: v.fileSha256 };
      } catch (err) {
        return { role, path, state: 'bad', message: (err as Error).message };
      }
    });
    const source: Location = { kind: found.kind, label: found.label, dir: found.dir };
    return { name, source, locations: scans, files, ok: files.every((f) => f.state === 'ok' || f.state === 'unchecked'), downloadDir };
  });
}

/**
 * A plain-text report of {@link dataStatus} for a terminal.
 * @example console.log(formatDataStatus(dataStatus()));
 */
export function formatDataStatus(statuses: readonly DatasetStatus[]): string {
  const lines: string[] = [];
  for (const s of statuses) {
    lines.push(`${s.name}: ${s.source ? `${s.ok ? 'OK' : 'PROBLEM'}, found in ${s.source.kind} (${s.source.label}): ${s.source.dir}` : `not found (would download into ${s.downloadDir})`}`);
    for (const loc of s.locations) {
      const what = loc.missing.length === 0 ? 'all 4 files' : loc.missing.length === 4 ? 'nothing' : `missing ${loc.missing.join(', ')}`;
      lines.push(`  ${loc === s.locations[s.locations.length - 1] && s.source ? '*' : ' '} ${loc.kind.padEnd(8)} ${loc.dir} (${loc.label}): ${what}`);
    }
    for (const f of s.files) {
      if (f.state === 'missing' && !s.source) continue;
      const how = f.verifiedAs ? ` [${f.verifiedAs}]` : '';
      lines.push(`    ${f.role.padEnd(11)} ${f.state}${how}${f.path ? ` ${f.path}` : ''}${f.message ? `\n      ${f.message}` : ''}`);
    }
  }
  return lines.join('\n');
}
