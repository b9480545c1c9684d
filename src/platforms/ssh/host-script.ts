/**
 * The POSIX-sh script cutover installs on every host (`<root>/.cutover/host-<hash>.sh`). It is
 * the supervisor of each instance and the few operations cutover runs over SSH. Why a script
 * and not systemd: the script needs nothing on the host beyond sh, setsid, kill, sleep, tail
 * and /proc, runs as the SSH user, and survives the session (setsid, stdio on files); it is
 * installed under a name derived from its content, so a running supervisor's file is never
 * rewritten under it (sh reads its script as it goes).
 *
 * Per instance, `<root>/run/<app>/<slot>-<index>/` holds what cutover wrote (release, port,
 * command, workdir, env, logfile) and what the supervisor writes: pid (its own), child (the
 * app's pid, leader of its own process group), restarts, and `stop` when a stop began.
 *
 *   run DIR                 the supervisor loop (started by `start`)
 *   start DIR               launch the supervisor for DIR, detached from the session
 *   list APPDIR             one line per instance: slot index release port alive child restarts
 *   stop DIR GRACE_MS       SIGTERM the app's group, SIGKILL after the grace, end the supervisor, remove DIR
 */
import { createHash } from 'node:crypto';

export const HOST_SCRIPT = `#!/bin/sh
# cutover host script: instance supervisor and helpers. Installed and run by cutover over SSH.
set -u

alive() { # pid: true while it runs and is this script's supervisor or an app
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null
}

supervisor_alive() { # dir
  pid=$(cat "$1/pid" 2>/dev/null || true)
  alive "$pid" && grep -q "cutover" "/proc/$pid/cmdline" 2>/dev/null
}

run() {
  dir=$1
  cd "$dir" || exit 1
  echo $$ > pid.tmp && mv pid.tmp pid
  trap '' HUP
  restarts=0
  echo 0 > restarts
  log=$(cat logfile)
  while [ ! -e stop ]; do
    ( cd "$(cat workdir)" && . "$dir/env" && exec setsid sh -c "$(cat "$dir/command")" ) </dev/null >>"$log" 2>&1 &
    child=$!
    echo "$child" > child.tmp && mv child.tmp child
    wait "$child"
    status=$?
    # wait returns early when a signal arrives: wait until the app is really gone
    while kill -0 "$child" 2>/dev/null; do sleep 0.2; done
    [ -e stop ] && break
    restarts=$((restarts + 1))
    echo "$restarts" > restarts.tmp && mv restarts.tmp restarts
    echo "cutover supervisor: the instance exited (status $status); restart $restarts in 1s" >>"$log"
    sleep 1
  done
  rm -f child
}

start() {
  dir=$1
  rm -f "$dir/stop" "$dir/pid" "$dir/child"
  setsid sh "$0" run "$dir" </dev/null >/dev/null 2>&1 &
  # the supervisor writes its pid at once: wait for it so a list right after sees it
  tries=0
  while [ ! -s "$dir/pid" ] && [ "$tries" -lt 100 ]; do sleep 0.05; tries=$((tries + 1)); done
  [ -s "$dir/pid" ] || { echo "the supervisor did not start in $dir" >&2; exit 1; }
}

list() {
  appdir=$1
  [ -d "$appdir" ] || exit 0
  for dir in "$appdir"/*-*; do
    [ -f "$dir/release" ] || continue
    name=\${dir##*/}
    alive=0
    supervisor_alive "$dir" && alive=1
    child=$(cat "$dir/child" 2>/dev/null || echo 0)
    restarts=$(cat "$dir/restarts" 2>/dev/null || echo 0)
    echo "\${name%-*} \${name##*-} $(cat "$dir/release") $(cat "$dir/port") $alive $child $restarts"
  done
}

stop() {
  dir=$1
  grace_ms=$2
  [ -d "$dir" ] || exit 0
  : > "$dir/stop"
  child=$(cat "$dir/child" 2>/dev/null || true)
  if alive "$child"; then
    echo "cutover supervisor: stopping (SIGTERM)" >>"$(cat "$dir/logfile")"
    kill -s TERM -- "-$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null
    waited=0
    while kill -s 0 -- "-$child" 2>/dev/null && [ "$waited" -lt "$grace_ms" ]; do
      sleep 0.1
      waited=$((waited + 100))
    done
    kill -s KILL -- "-$child" 2>/dev/null || true
  fi
  # the supervisor sees the stop mark once its wait returns
  tries=0
  while supervisor_alive "$dir" && [ "$tries" -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
  if supervisor_alive "$dir"; then kill -KILL "$(cat "$dir/pid")" 2>/dev/null || true; fi
  rm -rf "$dir"
}

command=\${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  run) run "$@" ;;
  start) start "$@" ;;
  list) list "$@" ;;
  stop) stop "$@" ;;
  *) echo "usage: $0 run|start|list|stop ..." >&2; exit 2 ;;
esac
`;

/** The script's file name on the host: a new version never overwrites a running one. */
export const HOST_SCRIPT_NAME = `host-${createHash('sha256').update(HOST_SCRIPT).digest('hex').slice(0, 12)}.sh`;
