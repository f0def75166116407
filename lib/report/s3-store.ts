/**
 * Reports in the stack's encrypted S3 bucket: `reports/<id>.json`, `reports/<id>.zh-CN.md`,
 * `reports/<id>.en.md`. The SDK package is loaded at the first call (lib/runtime/lazy-sdk.ts).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { REPORT_LANGUAGES, type ReportLanguage } from './render';
import type { IncidentReportData } from './report';
import { reportKeys, type ReportStore, type StoredReport } from './store';

export const REPORTS_PREFIX = 'reports/';

export interface S3ReportStoreOptions {
  readonly client: Pick<S3Client, 'send'>;
  readonly bucket: string;
  /** @default 'reports/' */
  readonly prefix?: string;
}

export class S3ReportStore implements ReportStore {
  private readonly prefix: string;

  public constructor(private readonly options: S3ReportStoreOptions) {
    this.prefix = options.prefix ?? REPORTS_PREFIX;
  }

  public async save(report: StoredReport): Promise<{ location: string }> {
    const keys = reportKeys(report.json.incidentId);
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const put = (key: string, body: string, type: string) => this.options.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: `${this.prefix}${key}`, Body: body, ContentType: `${type}; charset=utf-8` }));
    await Promise.all(REPORT_LANGUAGES.map((l) => put(keys.markdown[l], report.markdown[l], 'text/markdown')));
    // The JSON last: a reader that finds it finds the Markdown of the same version or newer.
    await put(keys.json, `${JSON.stringify(report.json, null, 2)}\n`, 'application/json');
    return { location: `s3://${this.options.bucket}/${this.prefix}${keys.json}` };
  }

  public async get(incidentId: string): Promise<StoredReport | undefined> {
    const keys = reportKeys(incidentId);
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const read = async (key: string): Promise<string | undefined> => {
      try {
        const out = await this.options.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: `${this.prefix}${key}` }));
        return (await out.Body?.transformToString('utf8')) ?? '';
      } catch (err) {
        if ((err as Error).name === 'NoSuchKey' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
        throw err;
      }
    };
    const json = await read(keys.json);
    if (json === undefined) return undefined;
    const markdown = Object.fromEntries(await Promise.all(REPORT_LANGUAGES.map(async (l) => [l, (await read(keys.markdown[l])) ?? ''] as const))) as Record<ReportLanguage, string>;
    return { json: JSON.parse(json) as IncidentReportData, markdown };
  }
}
