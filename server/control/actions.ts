/**
 * The names of Celeriac's control actions. A module of its own, with no imports, because the
 * browser reads it too (the audit page's action filter).
 */

/** Every action the audit log and celeriac_control_calls_total can name. */
export const CONTROL_ACTIONS = [
  'shutdown',
  'pool-restart',
  'pool-grow',
  'pool-shrink',
  'pool-autoscale',
  'add-consumer',
  'cancel-consumer',
  'revoke',
  'bulk-revoke',
  'rate-limit',
  'time-limit',
  'pause-worker',
  'resume-worker',
  'pause-queue',
  'resume-queue',
  'purge-queue',
  'async-apply',
  'send-task',
  'apply',
  'retry',
] as const;

export type ControlAction = (typeof CONTROL_ACTIONS)[number];
