/**
 * A remote client of the test's own: a network namespace joined to this host by a veth pair on
 * a private /30 link (host side `.1`, namespace side `.2`). Requests run inside the namespace
 * with curl and reach the host only through the veth, so Celeriac sees a non-loopback peer.
 * Nothing is sent to any other address of the machine. Needs root (`ip netns`).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RemoteHost {
  /** The host side of the link: what the remote client connects to. */
  hostAddress: string;
  /** The namespace side: the peer address Celeriac sees. */
  remoteAddress: string;
  /** curl from inside the namespace; `body` is the response body, `status` the HTTP status. */
  request(method: string, url: string, options?: { headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }>;
  remove(): void;
}

export function canUseNetns(): string | false {
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'needs iproute2 (ip netns) and curl';
  }
  return false;
}

function addressInUse(prefix: string): boolean {
  return execFileSync('ip', ['-o', 'addr'], { encoding: 'utf8' }).includes(` ${prefix}`);
}

export async function createRemoteHost(): Promise<RemoteHost> {
  const tag = `${process.pid % 100_000}`;
  const ns = `celeriac-t${tag}`;
  const hostIf = `cel${tag}h`;
  const nsIf = `cel${tag}n`;
  // A /30 in 10.213.0.0/16 that no interface uses yet.
  let third = process.pid % 250;
  let quad = 0;
  while (addressInUse(`10.213.${third}.${quad + 1}/`)) {
    quad += 4;
    if (quad >= 256) {
      quad = 0;
      third = (third + 1) % 250;
    }
  }
  const hostAddress = `10.213.${third}.${quad + 1}`;
  const remoteAddress = `10.213.${third}.${quad + 2}`;
  const remove = (): void => {
    // Deleting the namespace deletes the veth pair with it; the host end is removed too in case
    // the namespace was never created.
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* not there */
    }
    try {
      execFileSync('ip', ['link', 'del', hostIf], { stdio: 'ignore' });
    } catch {
      /* not there */
    }
  };
  remove();
  process.once('exit', remove);
  try {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    await run('ip', ['link', 'set', nsIf, 'netns', ns]);
    await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
    await run('ip', ['link', 'set', hostIf, 'up']);
    await run('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${remoteAddress}/30`, 'dev', nsIf]);
    await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up']);
    await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (error) {
    remove();
    throw error;
  }
  return {
    hostAddress,
    remoteAddress,
    async request(method, url, options = {}) {
      const host = new URL(url).hostname;
      if (host !== hostAddress) throw new Error(`the remote client only talks to ${hostAddress}, not ${host}`);
      const args = ['netns', 'exec', ns, 'curl', '-sS', '--noproxy', '*', '--max-time', '10', '-X', method, '-o', '-', '-w', '\n%{http_code}'];
      for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
      if (options.body !== undefined) args.push('--data-binary', options.body);
      args.push(url);
      const { stdout } = await run('ip', args, { maxBuffer: 16 * 1024 * 1024 });
      const cut = stdout.lastIndexOf('\n');
      return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
    },
    remove() {
      process.off('exit', remove);
      remove();
    },
  };
}
