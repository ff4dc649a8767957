# map_paths TEXT: /etc/edge-rnn and /etc/systemd/system under $FAKE_HOST_ROOT, except right after '='.
map_paths() {
  printf '%s' "$1" | sed -E "s#(^|[^=])/etc/(edge-rnn|systemd/system)#\\1$FAKE_HOST_ROOT/etc/\\2#g"
}
