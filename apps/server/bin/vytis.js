#!/usr/bin/env node
// Runs the CLI: precompiled (apps/server/dist, made by `npm install` and scripts/build.mjs) when
// that build is fresh, else the TypeScript sources through tsx, so `npx vytis` works from a fresh
// clone with no build step and an edited source never runs stale code.
import { freshBuild } from '../scripts/built.mjs';

const built = freshBuild('cli.js');
if (built) {
  process.setSourceMapsEnabled(true); // stack traces name the TypeScript lines, as under tsx
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
