/**
 * The kubectl the sandbox's kubectl test (test/integration/kubectl-sandbox.test.ts) needs, and the
 * clear failure when the one on PATH cannot run it: exec goes over websockets by default from
 * kubectl 1.30 (older clients speak SPDY, which the sandbox does not serve), and replace relies on
 * server-side field validation (1.25). A kubectl that is too old fails the suite; it never skips.
 */
import { execFileSync } from 'node:child_process';

/** The oldest kubectl minor version (1.x) the kubectl test runs with. */
export const KUBECTL_MIN_MINOR = 30;

/** `kubectl version --client -o json` of the kubectl on PATH, or undefined when there is none. */
export function kubectlVersionJson(): string | undefined {
  try {
    return execFileSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
}

/**
 * Why the kubectl of `versionJson` cannot run the kubectl test, or undefined when it can.
 * @example kubectlVersionProblem('{"clientVersion":{"major":"1","minor":"20","gitVersion":"v1.20.2"}}') // 'kubectl v1.20.2 on PATH is older than 1.30: ...'
 */
export function kubectlVersionProblem(versionJson: string | undefined): string | undefined {
  const fix = `install kubectl ≥ 1.${KUBECTL_MIN_MINOR} (google-cloud-sdk's kubectl package, or the Kubernetes project's apt repository pkgs.k8s.io; Debian bookworm's kubernetes-client is 1.20, too old)`;
  if (versionJson === undefined) return `no kubectl on PATH: the sandbox's kubectl test needs the real kubectl; ${fix}`;
  let client: { major?: string; minor?: string; gitVersion?: string } | undefined;
  try {
    client = (JSON.parse(versionJson) as { clientVersion?: typeof client }).clientVersion;
  } catch {
    client = undefined;
  }
  const major = Number(String(client?.major ?? '').replace(/\D.*$/, ''));
  const minor = Number(String(client?.minor ?? '').replace(/\D.*$/, ''));
  if (!client || !Number.isInteger(major) || !Number.isInteger(minor) || String(client.minor ?? '') === '') return `cannot read the version of the kubectl on PATH from "kubectl version --client -o json" (${versionJson.trim().slice(0, 200)}); ${fix}`;
  if (major < 1 || (major === 1 && minor < KUBECTL_MIN_MINOR)) {
    return `kubectl ${client.gitVersion ?? `${major}.${minor}`} on PATH is older than 1.${KUBECTL_MIN_MINOR}: it would exec over SPDY, which the sandbox does not serve, so the kubectl test cannot keep the sandbox honest; ${fix}`;
  }
  return undefined;
}
