#!/usr/bin/env bash
# Deploys edge-rnn to a device over ssh: the one-file bundle, the model(s), a systemd unit
# and an environment file with the broker settings; enables and (re)starts the service.
#
#   scripts/deploy.sh [options] HOST           HOST: an ssh destination (pi@raspberrypi.local)
#
#   --model FILE     model to copy into <dir>/models/ (repeatable; default: models/*.msgpack)
#   --model-only     copy only the model(s), then restart the service (the runtime stays)
#   --env FILE       install FILE as the device's environment file, replacing it (by default
#                    scripts/edge-rnn.env.example is installed only if the device has none)
#   --dir DIR        install folder on the device (default /opt/edge-rnn)
#   --user USER      service user, created as a system user if missing (default edge-rnn)
#   --service NAME   unit name (default edge-rnn): several instances can live side by side
#   --no-build       do not run `npm run bundle`; ship dist/edge-rnn-device.mjs as it is
#   --no-restart     install only; do not enable or restart anything
#
# Env: DRY_RUN=1 prints every command instead of running it (and the rendered unit);
#      SSH_OPTS extra options for ssh and scp (e.g. "-i ~/.ssh/pi -o Port=2222");
#      DEPLOY_TTY=1 gives the remote script a terminal (ssh -t), for a sudo that asks a password;
#      REMOTE_SUDO the privilege prefix on the device (default sudo; empty when logged in as root);
#      BUNDLE the bundle to ship (default dist/edge-rnn-device.mjs, the device bundle;
#      installed on the device as edge-rnn.mjs whatever its name here).
# Needs on the device: Node.js >= 18 (`apt install nodejs` on Raspberry Pi OS), systemd, sudo.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=/opt/edge-rnn
SVC_USER=edge-rnn
SERVICE=edge-rnn
MODELS=()
ENV_FILE=
MODEL_ONLY=
BUILD=1
RESTART=1
HOST=

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "deploy: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --model) [ $# -ge 2 ] || die "--model needs a file"; MODELS+=("$2"); shift 2 ;;
    --model-only) MODEL_ONLY=1; shift ;;
    --env) [ $# -ge 2 ] || die "--env needs a file"; ENV_FILE=$2; shift 2 ;;
    --dir) [ $# -ge 2 ] || die "--dir needs a folder"; DIR=${2%/}; shift 2 ;;
    --user) [ $# -ge 2 ] || die "--user needs a name"; SVC_USER=$2; shift 2 ;;
    --service) [ $# -ge 2 ] || die "--service needs a name"; SERVICE=$2; shift 2 ;;
    --no-build) BUILD=; shift ;;
    --no-restart) RESTART=; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$HOST" ] || die "one HOST only (got $HOST and $1)"; HOST=$1; shift ;;
  esac
done
[ -n "$HOST" ] || { usage >&2; exit 2; }
case "$DIR" in /*) ;; *) die "--dir must be an absolute path" ;; esac

if [ ${#MODELS[@]} -eq 0 ]; then
  for m in "$REPO"/models/*.msgpack; do [ -e "$m" ] && MODELS+=("$m"); done
fi
[ ${#MODELS[@]} -gt 0 ] || die "no model to deploy (--model FILE)"
for m in "${MODELS[@]}"; do [ -f "$m" ] || die "no such model: $m"; done
[ -z "$ENV_FILE" ] || [ -f "$ENV_FILE" ] || die "no such env file: $ENV_FILE"

DRY=${DRY_RUN:-}
SUDO=${REMOTE_SUDO-sudo}
read -r -a SSH_ARGS <<<"${SSH_OPTS:-}"
UNIT_PATH=/etc/systemd/system/$SERVICE.service
ENV_PATH=/etc/edge-rnn/$SERVICE.env
STAGE=/tmp/edge-rnn-deploy.$$.$RANDOM
LOCAL=$(mktemp -d "${TMPDIR:-/tmp}/edge-rnn-deploy.XXXXXX")
trap 'rm -rf "$LOCAL"' EXIT

# run CMD...: runs it, or with DRY_RUN=1 prints it, shell-quoted, one line per command.
run() {
  if [ -n "$DRY" ]; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}
# remote SCRIPT: runs a multi-line shell script on the device, passed as one ssh argument
# (so that DEPLOY_TTY=1 can let sudo ask for a password); DRY_RUN=1 prints it.
remote() {
  local tty=()
  [ -z "${DEPLOY_TTY:-}" ] || tty=(-t)
  if [ -n "$DRY" ]; then
    printf "+ ssh%s%s %s '%s'\n" "${tty[*]:+ ${tty[*]}}" "${SSH_OPTS:+ $SSH_OPTS}" "$HOST" "$1"
  else
    # shellcheck disable=SC2029 # expanding here is the point: the script is built locally
    ssh "${tty[@]}" "${SSH_ARGS[@]}" "$HOST" "$1"
  fi
}

# --- build and render locally -------------------------------------------------------
# The device gets the device bundle (issue 17: no train/sim/demo); installed as edge-rnn.mjs.
BUNDLE=${BUNDLE:-$REPO/dist/edge-rnn-device.mjs}
BUNDLE_NAME=$(basename "$BUNDLE")
if [ -z "$MODEL_ONLY" ]; then
  if [ -n "$BUILD" ]; then
    run npm --prefix "$REPO" run --silent bundle
  fi
  [ -n "$DRY" ] || [ -f "$BUNDLE" ] || die "no bundle at $BUNDLE (npm run bundle)"
fi

# The device's node: its path goes into the unit; refuse anything older than 18.
NODE=/usr/bin/node
if [ -z "$MODEL_ONLY" ] && [ -z "$DRY" ]; then
  read -r NODE NODE_VERSION < <(ssh "${SSH_ARGS[@]}" "$HOST" 'command -v node && node -p process.versions.node' | tr '\n' ' ') ||
    die "no node on $HOST: install Node.js >= 18 (sudo apt install nodejs)"
  [ "${NODE_VERSION%%.*}" -ge 18 ] || die "$HOST has Node.js $NODE_VERSION; edge-rnn needs >= 18"
  echo "deploy: $HOST has Node.js $NODE_VERSION at $NODE"
fi

sed -e "s|@NODE@|$NODE|g" -e "s|@DIR@|$DIR|g" -e "s|@USER@|$SVC_USER|g" -e "s|@ENV_FILE@|$ENV_PATH|g" \
  "$REPO/scripts/edge-rnn.service" >"$LOCAL/$SERVICE.service"
if [ -n "$ENV_FILE" ]; then
  cp "$ENV_FILE" "$LOCAL/$SERVICE.env"
else
  sed -e "s|/opt/edge-rnn/models/example-lstm.msgpack|$DIR/models/$(basename "${MODELS[0]}")|" -e "s|/opt/edge-rnn|$DIR|g" \
    "$REPO/scripts/edge-rnn.env.example" >"$LOCAL/$SERVICE.env"
fi
if [ -n "$DRY" ] && [ -z "$MODEL_ONLY" ]; then
  echo "# $UNIT_PATH:"
  sed 's/^/#   /' "$LOCAL/$SERVICE.service"
fi

# --- copy to a staging folder on the device, then install as root ----------------------
FILES=()
for m in "${MODELS[@]}"; do FILES+=("$m"); done
if [ -z "$MODEL_ONLY" ]; then
  FILES+=("$BUNDLE" "$LOCAL/$SERVICE.service" "$LOCAL/$SERVICE.env")
  [ ! -f "$BUNDLE.map" ] || FILES+=("$BUNDLE.map")
fi
remote "mkdir -p -m 700 $STAGE"
run scp -q "${SSH_ARGS[@]}" "${FILES[@]}" "$HOST:$STAGE/"

S=${SUDO:+$SUDO }
MODEL_NAMES=()
for m in "${MODELS[@]}"; do MODEL_NAMES+=("$(basename "$m")"); done
SCRIPT="set -e
trap \"rm -rf $STAGE\" EXIT"
step() { SCRIPT+=$'\n'"$*"; }
if [ -z "$MODEL_ONLY" ]; then
  step "id -u $SVC_USER >/dev/null 2>&1 || ${S}useradd --system --home-dir $DIR --no-create-home --shell /usr/sbin/nologin $SVC_USER"
  step "${S}install -d -m 755 -o $SVC_USER -g $SVC_USER $DIR"
fi
step "${S}install -d -m 755 -o $SVC_USER -g $SVC_USER $DIR/models"
# Write beside, then rename: a process never sees half a file.
for n in "${MODEL_NAMES[@]}"; do
  step "${S}install -m 644 -o $SVC_USER -g $SVC_USER $STAGE/$n $DIR/models/.$n.new && ${S}mv -f $DIR/models/.$n.new $DIR/models/$n"
done
if [ -z "$MODEL_ONLY" ]; then
  step "${S}install -m 755 -o $SVC_USER -g $SVC_USER $STAGE/$BUNDLE_NAME $DIR/.edge-rnn.mjs.new && ${S}mv -f $DIR/.edge-rnn.mjs.new $DIR/edge-rnn.mjs"
  # The map keeps its name: the bundle's sourceMappingURL points at it.
  [ ! -f "$BUNDLE.map" ] || step "${S}install -m 644 $STAGE/$BUNDLE_NAME.map $DIR/$BUNDLE_NAME.map"
  step "${S}install -m 644 $STAGE/$SERVICE.service $UNIT_PATH"
  step "${S}install -d -m 755 /etc/edge-rnn"
  if [ -n "$ENV_FILE" ]; then
    step "${S}install -m 600 $STAGE/$SERVICE.env $ENV_PATH"
  else
    # Keep the device's own settings (broker, credentials): the example goes in only once.
    step "${S}test -e $ENV_PATH || ${S}install -m 600 $STAGE/$SERVICE.env $ENV_PATH"
  fi
  step "${S}systemctl daemon-reload"
  [ -z "$RESTART" ] || step "${S}systemctl enable $SERVICE"
fi
if [ -n "$RESTART" ]; then
  # restart, not start: a running service must pick up the new bundle or model.
  step "${S}systemctl restart $SERVICE"
  step "sleep 2; systemctl is-active $SERVICE || { ${S}journalctl -u $SERVICE -n 20 --no-pager; exit 1; }"
fi
remote "$SCRIPT"

if [ -z "$DRY" ]; then
  if [ -n "$MODEL_ONLY" ]; then
    echo "deploy: ${MODEL_NAMES[*]} -> $HOST:$DIR/models/${RESTART:+ (service $SERVICE restarted)}"
  else
    echo "deploy: edge-rnn.mjs, ${MODEL_NAMES[*]} -> $HOST:$DIR; unit $UNIT_PATH; settings $ENV_PATH"
  fi
  [ -z "$RESTART" ] || echo "deploy: logs: ssh $HOST journalctl -u $SERVICE -f"
fi
