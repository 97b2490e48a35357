/**
 * External tools the tests use (Debian packages that `scripts/ensure-services.sh` installs).
 *
 * A test that needs a tool declares it with `skipUnless(tool)` and calls `requireTool(tool)`
 * first. Run by hand without the tool, the test is skipped and says what to install. Under
 * CI=true it is never skipped: it runs and fails with the install hint, so a CI machine that lost
 * a package cannot pass by skipping the tests that need it.
 */
import { spawnSync } from 'node:child_process';

export interface Tool {
  /** What the test needs, as a person would name it. */
  readonly name: string;
  readonly available: boolean;
  /** The command that installs it. */
  readonly install: string;
}

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

function runs(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

/** A tool whose presence `command args` proves (exit status 0). */
export function commandTool(name: string, command: string, args: string[], install: string): Tool {
  return { name, available: runs(command, args), install };
}

export const PROMTOOL_BIN = process.env.PROMTOOL ?? 'promtool';
export const PROMTOOL: Tool = commandTool('promtool', PROMTOOL_BIN, ['--version'], 'apt-get install prometheus (or bash scripts/ensure-services.sh)');
export const PROMETHEUS: Tool = commandTool('prometheus', '/usr/bin/prometheus', ['--version'], 'apt-get install prometheus (or bash scripts/ensure-services.sh)');

/** The `skip` option of a test that needs `tool`: a reason when run by hand without it; never under CI. */
export function skipUnless(tool: Tool): string | false {
  if (tool.available || IN_CI) return false;
  return `${tool.name} is not installed (${tool.install}); under CI=true this test fails instead`;
}

/** Throw, naming the install command, when the tool is missing. */
export function requireTool(tool: Tool): void {
  if (!tool.available) throw new Error(`${tool.name} is not installed: ${tool.install}`);
}
