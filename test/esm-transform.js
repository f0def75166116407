/**
 * Jest transform for the ESM-only packages under node_modules (@kubernetes/client-node 1.x and
 * its OIDC dependencies): esbuild rewrites them to CommonJS, as it does when it bundles a Lambda.
 * Jest's module system cannot load ESM without --experimental-vm-modules.
 */
const { transformSync } = require('esbuild');

module.exports = {
  process(source, file) {
    const out = transformSync(source, { loader: 'js', format: 'cjs', target: 'node20', sourcemap: 'inline', sourcefile: file });
    return { code: out.code };
  },
};
