/** The kubectl test's version gate: a kubectl too old to exec over websockets fails the suite, with the fix. */
import { kubectlVersionProblem } from '../../helpers/kubectl';

const version = (minor: string, gitVersion: string) => JSON.stringify({ clientVersion: { major: '1', minor, gitVersion }, kustomizeVersion: 'v5.5.0' });

describe('kubectlVersionProblem', () => {
  it.each([
    ['google-cloud-sdk 1.32', version('32+', 'v1.32.4-dispatcher')],
    ['upstream 1.30', version('30', 'v1.30.0')],
  ])('accepts %s', (_name, json) => {
    expect(kubectlVersionProblem(json)).toBeUndefined();
  });

  it("refuses Debian bookworm's kubernetes-client 1.20, naming the version and what to install", () => {
    expect(kubectlVersionProblem(version('20', 'v1.20.2'))).toBe(
      "kubectl v1.20.2 on PATH is older than 1.30: it would exec over SPDY, which the sandbox does not serve, so the kubectl test cannot keep the sandbox honest; install kubectl ≥ 1.30 (google-cloud-sdk's kubectl package, or the Kubernetes project's apt repository pkgs.k8s.io; Debian bookworm's kubernetes-client is 1.20, too old)",
    );
  });

  it('refuses 1.29, the last kubectl that execs over SPDY', () => {
    expect(kubectlVersionProblem(version('29', 'v1.29.9'))).toContain('kubectl v1.29.9 on PATH is older than 1.30');
  });

  it('a missing kubectl is a failure, not a skip', () => {
    expect(kubectlVersionProblem(undefined)).toContain('no kubectl on PATH');
  });

  it('an answer it cannot read is a failure quoting it', () => {
    expect(kubectlVersionProblem('Client Version: v1.18.0')).toContain('cannot read the version of the kubectl on PATH from "kubectl version --client -o json" (Client Version: v1.18.0)');
  });
});
