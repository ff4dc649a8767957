#!/usr/bin/env bash
# Deploys edge-rnn to a device over ssh: the device bundle, one model, a systemd unit, the
# environment file with the runtime's settings and, with --trust, the public key pushed
# models must be signed with; enables and (re)starts the service, then checks on the
# device that it started and published its retained "online" status.
#
#   scripts/deploy.sh --model FILE [options] HOST   HOST: an ssh destination (pi@raspberrypi.local)
#
#   --model FILE       the model the service runs (required), copied into <dir>/models/; refused
#                      when its meta marks it untrained (meta.untrained, e.g. models/example-lstm.msgpack)
#   --allow-untrained  ship an untrained model all the same (its predictions are meaningless)
#   --trust KEY        public key (.pub.pem from edge-rnn keygen) that pushed models must be signed
#                      with: installed as /etc/edge-rnn/trust/<name>, set as EDGE_RNN_TRUST
#   --model-only       copy only the model, point the settings at it and restart (the runtime stays)
#   --env FILE         install FILE as the device's environment file, replacing it (by default
#                      scripts/edge-rnn.env.example is installed only if the device has none); either
#                      way deploy.sh sets its EDGE_RNN_MODEL (and with --trust EDGE_RNN_TRUST) line
#   --dir DIR          install folder on the device (default /opt/edge-rnn)
#   --user USER        service user, created as a system user if missing (default edge-rnn)
#   --service NAME     unit name (default edge-rnn): several instances can live side by side
#   --no-build         do not run `npm run bundle`; ship dist/edge-rnn-device.mjs as it is
#   --no-restart       install only; do not enable, restart or check anything
#
# Env: DRY_RUN=1 prints every command instead of running it, and the rendered unit and env file;
#      SSH_OPTS extra options for ssh and scp (e.g. "-i ~/.ssh/pi -o Port=2222");
#      DEPLOY_TTY=1 gives the remote script a terminal (ssh -t), for a sudo that asks a password;
#      REMOTE_SUDO the privilege prefix on the device (default sudo; empty when logged in as root);
#      BUNDLE the bundle to ship (default dist/edge-rnn-device.mjs, the device bundle;
#      installed on the device as edge-rnn.mjs whatever its name here);
#      DEPLOY_STATUS_WAIT seconds to wait for the online status after the restart (default 30);
#      DEPLOY_SSH, DEPLOY_SCP the commands used instead of ssh and scp, called with the same
#      arguments (`DEPLOY_SSH [SSH_OPTS] HOST SCRIPT`, `DEPLOY_SCP -q [SSH_OPTS] FILE... HOST:DIR/`);
#      test/bundle/fake-host/ runs them on this machine in a temporary root (test/bundle/deploy-e2e.test.ts).
# Needs on the device: Node.js >= 18 (`apt install nodejs` on Raspberry Pi OS), systemd, sudo.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=/opt/edge-rnn
SVC_USER=edge-rnn
SERVICE=edge-rnn
MODEL=
ALLOW_UNTRAINED=
TRUST=
ENV_FILE=
MODEL_ONLY=
BUILD=1
RESTART=1
HOST=

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "deploy: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --model) [ $# -ge 2 ] || die "--model needs a file"; [ -z "$MODEL" ] || die "one --model only (got $MODEL and $2)"; MODEL=$2; shift 2 ;;
    --allow-untrained) ALLOW_UNTRAINED=1; shift ;;
    --trust) [ $# -ge 2 ] || die "--trust needs a public key file"; TRUST=$2; shift 2 ;;
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
[ -n "$MODEL" ] || die "--model FILE is required: the model the device runs (a trained one, e.g. models/mote-forecaster.msgpack)"
[ -f "$MODEL" ] || die "no such model: $MODEL"
case "$DIR" in /*) ;; *) die "--dir must be an absolute path" ;; esac
[ -z "$ENV_FILE" ] || [ -f "$ENV_FILE" ] || die "no such env file: $ENV_FILE"
[ -z "$ENV_FILE" ] || [ -z "$MODEL_ONLY" ] || die "--env and --model-only do not go together (--model-only leaves the settings but the model line)"
if [ -n "$TRUST" ]; then
  [ -f "$TRUST" ] || die "no such key file: $TRUST"
  ! grep -q 'PRIVATE KEY' "$TRUST" || die "$TRUST is a private key: a device trusts the public key (<name>.pub.pem from edge-rnn keygen)"
  grep -q 'BEGIN PUBLIC KEY' "$TRUST" || die "$TRUST is not a PEM public key (<name>.pub.pem from edge-rnn keygen)"
fi

DRY=${DRY_RUN:-}
SUDO=${REMOTE_SUDO-sudo}
SSH=${DEPLOY_SSH:-ssh}
SCP=${DEPLOY_SCP:-scp}
STATUS_WAIT=${DEPLOY_STATUS_WAIT:-30}
read -r -a SSH_ARGS <<<"${SSH_OPTS:-}"
UNIT_PATH=/etc/systemd/system/$SERVICE.service
ENV_PATH=/etc/edge-rnn/$SERVICE.env
TRUST_PATH=${TRUST:+/etc/edge-rnn/trust/$(basename "$TRUST")}
MODEL_NAME=$(basename "$MODEL")
MODEL_PATH=$DIR/models/$MODEL_NAME
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
    printf "+ %s%s%s %s '%s'\n" "$SSH" "${tty[*]:+ ${tty[*]}}" "${SSH_OPTS:+ $SSH_OPTS}" "$HOST" "$1"
  else
    # shellcheck disable=SC2029 # expanding here is the point: the script is built locally
    $SSH "${tty[@]}" "${SSH_ARGS[@]}" "$HOST" "$1"
  fi
}

# --- build, check and render locally ------------------------------------------------
# The device gets the device bundle (no train/sim/demo); installed as edge-rnn.mjs.
BUNDLE=${BUNDLE:-$REPO/dist/edge-rnn-device.mjs}
BUNDLE_NAME=$(basename "$BUNDLE")
if [ -z "$MODEL_ONLY" ]; then
  if [ -n "$BUILD" ]; then
    run npm --prefix "$REPO" run --silent bundle
  fi
  [ -n "$DRY" ] || [ -f "$BUNDLE" ] || die "no bundle at $BUNDLE (npm run bundle)"
fi

# The model must decode, and an untrained one (meta.untrained) needs --allow-untrained.
if [ -f "$BUNDLE" ]; then INSPECT=(node "$BUNDLE"); else INSPECT=(node "$REPO/bin/edge-rnn.mjs"); fi
MODEL_STATE=$("${INSPECT[@]}" inspect "$MODEL" --json |
  node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(d.meta && d.meta.untrained === true ? "untrained" : `${d.name} v${d.modelVersion}`)') ||
  die "cannot read model $MODEL (see the error above)"
if [ "$MODEL_STATE" = untrained ]; then
  [ -n "$ALLOW_UNTRAINED" ] || die "$MODEL is marked untrained (meta.untrained): its predictions are meaningless; deploy a trained model, or pass --allow-untrained"
  echo "deploy: warning: $MODEL is untrained (meta.untrained); deploying it because of --allow-untrained" >&2
fi

# The device's node: checked before anything is installed, its path goes into the unit.
NODE=/usr/bin/node
if [ -z "$MODEL_ONLY" ]; then
  if [ -n "$DRY" ]; then
    remote 'command -v node && node -p process.versions.node'
  else
    FOUND=$(remote 'command -v node && node -p process.versions.node') ||
      die "no node on $HOST: install Node.js >= 18 (sudo apt install nodejs)"
    read -r NODE NODE_VERSION <<<"$(echo $FOUND)"
    [ "${NODE_VERSION%%.*}" -ge 18 ] 2>/dev/null || die "$HOST has Node.js ${NODE_VERSION:-?}; edge-rnn needs >= 18"
    echo "deploy: $HOST has Node.js $NODE_VERSION at $NODE"
  fi
fi

# set_line FILE KEY VALUE: KEY=VALUE in the env file FILE, replacing the KEY= line or appended.
set_line() {
  if grep -q "^$2=" "$1"; then sed -i "s|^$2=.*|$2=$3|" "$1"; else echo "$2=$3" >>"$1"; fi
}
sed -e "s|@NODE@|$NODE|g" -e "s|@DIR@|$DIR|g" -e "s|@USER@|$SVC_USER|g" -e "s|@ENV_FILE@|$ENV_PATH|g" \
  "$REPO/scripts/edge-rnn.service" >"$LOCAL/$SERVICE.service"
if [ -n "$ENV_FILE" ]; then
  cp "$ENV_FILE" "$LOCAL/$SERVICE.env"
else
  sed -e "s|/opt/edge-rnn|$DIR|g" "$REPO/scripts/edge-rnn.env.example" >"$LOCAL/$SERVICE.env"
fi
set_line "$LOCAL/$SERVICE.env" EDGE_RNN_MODEL "$MODEL_PATH"
[ -z "$TRUST" ] || set_line "$LOCAL/$SERVICE.env" EDGE_RNN_TRUST "$TRUST_PATH"
if [ -n "$DRY" ]; then
  if [ -z "$MODEL_ONLY" ]; then
    echo "# rendered $UNIT_PATH:"
    sed 's/^/#   /' "$LOCAL/$SERVICE.service"
    echo "# rendered $ENV_PATH ($([ -n "$ENV_FILE" ] && echo "replaces the device's" || echo "installed when the device has none; else only the lines below are set")):"
    sed 's/^/#   /' "$LOCAL/$SERVICE.env"
  fi
  echo "# set in $ENV_PATH on the device:"
  grep -E '^EDGE_RNN_(MODEL|TRUST)=' "$LOCAL/$SERVICE.env" | sed 's/^/#   /'
fi

# --- copy to a staging folder on the device, then install as root ----------------------
FILES=("$MODEL")
if [ -z "$MODEL_ONLY" ]; then
  FILES+=("$BUNDLE" "$LOCAL/$SERVICE.service" "$LOCAL/$SERVICE.env")
  [ ! -f "$BUNDLE.map" ] || FILES+=("$BUNDLE.map")
  [ -z "$TRUST" ] || { cp "$TRUST" "$LOCAL/$SERVICE.trust.pem"; FILES+=("$LOCAL/$SERVICE.trust.pem"); }
fi
remote "mkdir -p -m 700 $STAGE"
run "$SCP" -q "${SSH_ARGS[@]}" "${FILES[@]}" "$HOST:$STAGE/"

S=${SUDO:+$SUDO }
SCRIPT="set -e
trap \"rm -rf $STAGE\" EXIT"
step() { SCRIPT+=$'\n'"$*"; }
# The same as set_line, on the device (the file is root's, mode 0600).
remote_set_line() { step "${S}grep -q \"^$1=\" $ENV_PATH && ${S}sed -i \"s|^$1=.*|$1=$2|\" $ENV_PATH || echo \"$1=$2\" | ${S}tee -a $ENV_PATH >/dev/null"; }
if [ -z "$MODEL_ONLY" ]; then
  step "id -u $SVC_USER >/dev/null 2>&1 || ${S}useradd --system --home-dir $DIR --no-create-home --shell /usr/sbin/nologin $SVC_USER"
  step "${S}install -d -m 755 -o $SVC_USER -g $SVC_USER $DIR"
fi
step "${S}install -d -m 755 -o $SVC_USER -g $SVC_USER $DIR/models"
# Write beside, then rename: a process never sees half a file.
step "${S}install -m 644 -o $SVC_USER -g $SVC_USER $STAGE/$MODEL_NAME $DIR/models/.$MODEL_NAME.new && ${S}mv -f $DIR/models/.$MODEL_NAME.new $MODEL_PATH"
if [ -z "$MODEL_ONLY" ]; then
  step "${S}install -m 755 -o $SVC_USER -g $SVC_USER $STAGE/$BUNDLE_NAME $DIR/.edge-rnn.mjs.new && ${S}mv -f $DIR/.edge-rnn.mjs.new $DIR/edge-rnn.mjs"
  # The map keeps its name: the bundle's sourceMappingURL points at it.
  [ ! -f "$BUNDLE.map" ] || step "${S}install -m 644 $STAGE/$BUNDLE_NAME.map $DIR/$BUNDLE_NAME.map"
  step "${S}install -m 644 $STAGE/$SERVICE.service $UNIT_PATH"
  step "${S}install -d -m 755 /etc/edge-rnn"
  # Root's, not writable by the service: whoever can write it decides what the device runs.
  [ -z "$TRUST" ] || step "${S}install -d -m 755 /etc/edge-rnn/trust && ${S}install -m 644 $STAGE/$SERVICE.trust.pem $TRUST_PATH"
  if [ -n "$ENV_FILE" ]; then
    step "${S}install -m 600 $STAGE/$SERVICE.env $ENV_PATH"
  else
    # Keep the device's own settings (broker, credentials): the example goes in only once.
    step "${S}test -e $ENV_PATH || ${S}install -m 600 $STAGE/$SERVICE.env $ENV_PATH"
  fi
fi
remote_set_line EDGE_RNN_MODEL "$MODEL_PATH"
[ -z "$TRUST" ] || remote_set_line EDGE_RNN_TRUST "$TRUST_PATH"
if [ -z "$MODEL_ONLY" ]; then
  step "${S}systemctl daemon-reload"
  [ -z "$RESTART" ] || step "${S}systemctl enable $SERVICE"
fi
if [ -n "$RESTART" ]; then
  # restart, not start: a running service must pick up the new bundle or model. Then the
  # checks: the unit is active, and the runtime published "online" since the restart (read
  # back from the broker by the bundle itself, with the service's own settings).
  step "T0=\$(date +%s)"
  step "${S}systemctl restart $SERVICE"
  step "sleep 2; systemctl is-active $SERVICE || { ${S}journalctl -u $SERVICE -n 20 --no-pager; exit 1; }"
  step "${S}sh -c \"set -a; . $ENV_PATH; exec $NODE $DIR/edge-rnn.mjs status --since \$T0 --wait ${STATUS_WAIT}s\" || { ${S}journalctl -u $SERVICE -n 20 --no-pager; exit 1; }"
fi
remote "$SCRIPT"

if [ -z "$DRY" ]; then
  if [ -n "$MODEL_ONLY" ]; then
    echo "deploy: $MODEL_NAME -> $HOST:$DIR/models/${RESTART:+ (service $SERVICE restarted, online)}"
  else
    echo "deploy: edge-rnn.mjs, $MODEL_NAME${TRUST:+, trust key $TRUST_PATH} -> $HOST:$DIR; unit $UNIT_PATH; settings $ENV_PATH${RESTART:+; service $SERVICE online}"
  fi
  [ -z "$RESTART" ] || echo "deploy: logs: ssh $HOST journalctl -u $SERVICE -f"
fi
