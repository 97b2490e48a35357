#!/usr/bin/env bash
# Installs (Debian packages) and starts what Celeriac's tests and demos need, skipping whatever
# is already there: Redis, RabbitMQ, real Celery (python3-celery), Chromium for browser tests,
# Prometheus and promtool (dashboard, alert and scrape tests), python3-yaml (reads the alert
# rules), openssl (TLS certificates for the rediss:// test) and iproute2 and curl (a network
# namespace of the remote-client test's own, test/helpers/netns.ts), and PostgreSQL 15 (the store
# tests create a database of their own on 127.0.0.1:5432).
# Idempotent; safe to run on every CI run.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- 3<&-; }

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
/usr/bin/python3 -c 'import celery, redis, amqp' >/dev/null 2>&1 || missing+=(python3-celery python3-redis python3-amqp)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || missing+=(python3-yaml)
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "ensure-services: installing ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! listening 6379; then
  echo "ensure-services: starting redis-server on 127.0.0.1:6379"
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
if ! listening 5672; then
  echo "ensure-services: starting rabbitmq-server"
  as_root rabbitmq-server -detached
fi
if ! listening 5432; then
  echo "ensure-services: starting PostgreSQL 15"
  as_root pg_ctlcluster --skip-systemctl-redirect 15 main start
fi

up=0
for _ in $(seq 1 120); do
  if listening 6379 && listening 5672 && as_root rabbitmqctl -q await_startup >/dev/null 2>&1; then
    up=1
    break
  fi
  sleep 1
done
if [ "$up" != 1 ]; then
  echo "ensure-services: Redis or RabbitMQ did not come up within 120 s" >&2
  exit 1
fi
echo "ensure-services: Redis and RabbitMQ are up"

# The management API (--broker-api) gives ready/unacked counts and queue discovery; the queue
# tests use it. Enabling a plugin on a running node needs no restart; already enabled = no-op.
if ! listening 15672; then
  echo "ensure-services: enabling rabbitmq_management"
  as_root rabbitmq-plugins enable rabbitmq_management >/dev/null
  for _ in $(seq 1 60); do
    if listening 15672; then
      echo "ensure-services: RabbitMQ management API is up on 127.0.0.1:15672"
      exit 0
    fi
    sleep 1
  done
  echo "ensure-services: RabbitMQ management API did not come up on 15672 within 60 s" >&2
  exit 1
fi
exit 0
