/**
 * Where reports live: `<id>.json` and one Markdown file per language (`<id>.zh-CN.md`,
 * `<id>.en.md`). Locally a folder of the data folder (survives restarts), in memory with
 * `--memory`, and in AWS the stack's encrypted S3 bucket (lib/report/s3-store.ts).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPORT_LANGUAGES, type ReportLanguage } from './render';
import type { IncidentReportData } from './report';

/** The files of one stored report. */
export interface StoredReport {
  readonly json: IncidentReportData;
  readonly markdown: Readonly<Record<ReportLanguage, string>>;
}

export interface ReportStore {
  /** Writes the report and its Markdown; returns where the JSON went (a path or an `s3://` URL). */
  save(report: StoredReport): Promise<{ readonly location: string }>;
  /** The stored report, or undefined when none was written. */
  get(incidentId: string): Promise<StoredReport | undefined>;
}

const INCIDENT_ID = /^INC-\d{8}-\d{3,}$/;

/** An incident id that cannot name a report (it would escape the folder or the prefix). */
export class ReportIdError extends Error {
  public constructor(id: string) {
    super(`"${id}" is not an incident id (INC-YYYYMMDD-NNN)`);
    this.name = 'ReportIdError';
  }
}

/** The object or file names of a report: `<id>.json`, `<id>.<lang>.md`. @throws ReportIdError */
export function reportKeys(incidentId: string): { json: string; markdown: Record<ReportLanguage, string> } {
  if (!INCIDENT_ID.test(incidentId)) throw new ReportIdError(incidentId);
  return { json: `${incidentId}.json`, markdown: Object.fromEntries(REPORT_LANGUAGES.map((l) => [l, `${incidentId}.${l}.md`])) as Record<ReportLanguage, string> };
}

/** Reports kept in process (`npm start --memory`, tests). */
export class MemoryReportStore implements ReportStore {
  private readonly reports = new Map<string, StoredReport>();

  public async save(report: StoredReport): Promise<{ location: string }> {
    reportKeys(report.json.incidentId);
    this.reports.set(report.json.incidentId, report);
    return { location: `memory:${report.json.incidentId}` };
  }

  public async get(incidentId: string): Promise<StoredReport | undefined> {
    return this.reports.get(incidentId);
  }
}

/** Writes a file whole or not at all (temporary file, then rename), readable by its owner only. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Reports in `<dir>` (the engine: `<data-dir>/reports`). */
export class FileReportStore implements ReportStore {
  public constructor(private readonly dir: string) {}

  public async save(report: StoredReport): Promise<{ location: string }> {
    const keys = reportKeys(report.json.incidentId);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const lang of REPORT_LANGUAGES) writeAtomic(path.join(this.dir, keys.markdown[lang]), report.markdown[lang]);
    // The JSON last: a reader that finds it finds the Markdown of the same version or newer.
    const location = path.join(this.dir, keys.json);
    writeAtomic(location, `${JSON.stringify(report.json, null, 2)}\n`);
    return { location };
  }

  public async get(incidentId: string): Promise<StoredReport | undefined> {
    const keys = reportKeys(incidentId);
    let json: IncidentReportData;
    try {
      json = JSON.parse(readFileSync(path.join(this.dir, keys.json), 'utf8')) as IncidentReportData;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const markdown = Object.fromEntries(REPORT_LANGUAGES.map((l) => [l, readFileSync(path.join(this.dir, keys.markdown[l]), 'utf8')])) as Record<ReportLanguage, string>;
    return { json, markdown };
  }
}
