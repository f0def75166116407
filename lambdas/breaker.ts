/** breaker handler: placeholder until the incident runtime lands (the CDK stack needs the entry file to exist). */
export async function handler(): Promise<never> {
  throw new Error('breaker handler: not implemented yet (see README status)');
}
