/** investigate Lambda (`${Fn_investigate}`): the investigation's read-only checks and conclusion (lib/runtime/investigate.ts), with the targets it reads. Wiring only. */
import { reportingFromEnvironment } from '../lib/runtime/aws-reporting';
import { investigateLambda } from '../lib/runtime/investigate-lambda';
import { certificatesTarget } from '../lib/runtime/targets/certificates';
import { kafkaTarget } from '../lib/runtime/targets/kafka';
import { kubeTarget } from '../lib/runtime/targets/kube';
import { mysqlTarget } from '../lib/runtime/targets/mysql';
import { redisTarget } from '../lib/runtime/targets/redis';

// kube before certificates: the certificate sources read the cluster's TLS secrets through it.
// The knowledge base: similar past incidents.
export const handler = investigateLambda({ kube: kubeTarget, certificates: certificatesTarget, mysql: mysqlTarget, redis: redisTarget, kafka: kafkaTarget }, { reporting: reportingFromEnvironment });
