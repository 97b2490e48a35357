/**
 * A real Prometheus (Debian's `prometheus`) for integration tests: scrapes the given targets
 * every second, loads rule files, and answers PromQL over its HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './brokers';
import { PROMETHEUS, requireTool } from './tools';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  url: string;
  /** Instant query; rejects on a PromQL error (with Prometheus's message). */
  query(expr: string): Promise<PromSample[]>;
  /** Active alerts as Prometheus reports them (pending or firing). */
  alerts(): Promise<{ labels: Record<string, string>; state: string }[]>;
  stop(): Promise<void>;
  log(): string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startPrometheus(options: { targets: string[]; metricsPath?: string; ruleFiles?: string[]; scrapeInterval?: string }): Promise<RunningPrometheus> {
  requireTool(PROMETHEUS);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'celeriac-prometheus-'));
  const port = await freePort();
  const interval = options.scrapeInterval ?? '1s';
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    ...(options.ruleFiles && options.ruleFiles.length > 0 ? ['rule_files:', ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)] : []),
    'scrape_configs:',
    '  - job_name: celeriac',
    `    metrics_path: ${JSON.stringify(options.metricsPath ?? '/metrics')}`,
    '    static_configs:',
    `      - targets: ${JSON.stringify(options.targets)}`,
  ].join('\n');
  writeFileSync(path.join(dir, 'prometheus.yml'), `${config}\n`);
  const child = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${output}`);
    try {
      if ((await fetch(`${url}/-/ready`)).status === 200) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`prometheus not ready after 30 s: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const running: RunningPrometheus = {
    url,
    async query(expr: string): Promise<PromSample[]> {
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
      if (body.status !== 'success') throw new Error(`PromQL error for ${expr}: ${body.error ?? res.status}`);
      const result = body.data?.result;
      if (body.data?.resultType === 'scalar') return [{ metric: {}, value: result as [number, string] }];
      return (result as PromSample[]) ?? [];
    },
    async alerts() {
      const res = await fetch(`${url}/api/v1/alerts`);
      const body = (await res.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      return body.data.alerts;
    },
    async stop(): Promise<void> {
      live.delete(child);
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 5_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
  // Prometheus loads targets from discovery every 5 s: wait until every target has been scraped.
  for (;;) {
    const up = await running.query('up == 1').catch(() => []);
    if (up.length >= options.targets.length) return running;
    if (Date.now() > deadline + 30_000) throw new Error(`prometheus did not scrape ${options.targets.join(', ')}: ${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
