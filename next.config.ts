import type { NextConfig } from 'next';
import { distDirFor, normaliseUrlPrefix, URL_PREFIX_RULE } from './server/config/url-prefix';

// Celeriac never phones home. `next build` reads this after loading the config, so the default
// set here is enough; an explicit NEXT_TELEMETRY_DISABLED in the environment still wins.
process.env.NEXT_TELEMETRY_DISABLED ??= '1';

/**
 * The URL prefix Celeriac is served under (`--url-prefix`), e.g. '/flower', or '' for none.
 * It is a build-time setting: Next inlines basePath into the client bundles, so each prefix gets
 * its own build directory and the process must set CELERIAC_URL_PREFIX before building and
 * before calling next().
 */
function urlPrefixFromEnv(): string {
  const value = process.env.CELERIAC_URL_PREFIX ?? '';
  const prefix = normaliseUrlPrefix(value);
  if (prefix === null) throw new Error(`CELERIAC_URL_PREFIX must be empty or a path such as "/flower" (${URL_PREFIX_RULE}); got ${JSON.stringify(value)}`);
  return prefix;
}

const urlPrefix = urlPrefixFromEnv();

const nextConfig: NextConfig = {
  basePath: urlPrefix,
  // '/flower' → '.next-prefix-flower', so builds for different prefixes never overwrite each other.
  distDir: distDirFor(urlPrefix),
  env: {
    NEXT_PUBLIC_CELERIAC_URL_PREFIX: urlPrefix,
  },
  poweredByHeader: false,
  // `next build` would type-check everything tsconfig.json includes (server/, test/, e2e/, ...)
  // and rewrite tsconfig.json. Type checking is `npm run typecheck` (tsc --noEmit over the whole
  // project, first step of `npm test`), so the build only compiles.
  // tsconfig.next.json only extends tsconfig.json: Next may rewrite it (per-prefix type dirs)
  // without touching the project's own tsconfig.
  typescript: { ignoreBuildErrors: true, tsconfigPath: 'tsconfig.next.json' },
  reactStrictMode: true,
  // Pages never load remote images (or use next/image at all); keep the optimizer closed.
  images: {
    remotePatterns: [],
    unoptimized: true,
  },
  // Pages only read state through server/runtime.ts (a globalThis lookup, no imports of the
  // server's own modules). Should a server module ever be reached from app/ code anyway, load these
  // Node-only dependencies with Node's require instead of bundling them.
  serverExternalPackages: ['amqplib', 'commander', 'express', 'ioredis', 'pino', 'socket.io'],
};

export default nextConfig;
