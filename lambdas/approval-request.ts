/** approval-request handler: placeholder until the incident runtime lands (the CDK stack needs the entry file to exist). */
export async function handler(): Promise<never> {
  throw new Error('approval-request handler: not implemented yet (see README status)');
}
