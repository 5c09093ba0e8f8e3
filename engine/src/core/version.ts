/** Build information served at /loki/api/v1/status/buildinfo, in Loki's shape. */
export const VERSION = '0.1.0';

export const BUILD_INFO = {
  version: VERSION,
  revision: 'unknown',
  branch: 'main',
  buildUser: 'strata',
  buildDate: 'unknown',
  goVersion: `node ${process.versions.node}`,
};
