/** report Lambda (`${Fn_report}` in the compiled machines): timeline report (MTTD/MTTI/MTTR) and knowledge-base entry. Wiring only; the logic is lib/runtime/core/report.ts. */
import { reportingFromEnvironment } from '../lib/runtime/aws-reporting';
import { REPORT_OPS } from '../lib/runtime/core/report';
import { coreHandler } from '../lib/runtime/core-handler';

// Reports in the reports bucket, the closed incident's entry in the knowledge base.
export const handler = coreHandler('Fn_report', REPORT_OPS, { reporting: reportingFromEnvironment });
