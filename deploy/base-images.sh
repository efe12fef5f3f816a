#!/usr/bin/env bash
# Makes the base images deploy/Dockerfile and deploy/compose.yaml need from Debian's own
# packages (mmdebstrap + `podman import`), for a machine that reaches Debian's archive but no
# container registry. With a registry, none of this is needed: the Dockerfile's and the compose
# file's defaults are the public images.
#
#   deploy/base-images.sh [--force] [IMAGE...]     IMAGE: runtime tools postgres redis node rust
#
# Without IMAGE it makes runtime, tools, postgres, redis and node (`rust` is opt-in: it copies
# this machine's Rust toolchain, 1.4 GB, into the image so the Dockerfile can compile offline).
# An image whose recipe (its functions below) has not changed is kept, so a second run takes
# seconds. Installs podman, buildah, runc and
# mmdebstrap with apt when they are missing. Prints the variables that select these images:
#
#   eval "$(deploy/base-images.sh)"   # then: podman build --build-arg RUNTIME_IMAGE=... (docs/operations.md)
set -euo pipefail

suite=bookworm
prefix=localhost/carematch-base
force=false
images=()
for argument in "$@"; do
  case "$argument" in
    --force) force=true ;;
    runtime | tools | postgres | redis | node | rust) images+=("$argument") ;;
    *) echo "usage: $0 [--force] [runtime|tools|postgres|redis|node|rust]..." >&2; exit 2 ;;
  esac
done
[ ${#images[@]} -gt 0 ] || images=(runtime tools postgres redis node)

log() { echo "base-images: $*" >&2; }

install_tools() {
  local missing=()
  for command in podman buildah runc mmdebstrap; do
    command -v "$command" >/dev/null || missing+=("$command")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]} (apt)"
  # aardvark-dns gives compose services each other's names; runc, because crun fails on some
  # hosts (nested containers).
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    podman buildah runc mmdebstrap netavark aardvark-dns containernetworking-plugins \
    fuse-overlayfs slirp4netns uidmap iptables ca-certificates >/dev/null
}

# An image's recipe: the functions that make it, hashed (the `carematch.base-recipe` label).
recipe_of() {
  declare -f "make_$1" debootstrap_to_stdout import | sha256sum | cut -c1-16
}

# Keeps an image that was made by its current recipe.
current() {
  [ "$force" = false ] && podman image exists "$1" \
    && [ "$(podman image inspect --format '{{ index .Labels "carematch.base-recipe" }}' "$1")" = "$recipe" ]
}

# mmdebstrap without documentation, locales or apt's lists: smaller images, same programs.
debootstrap_to_stdout() {
  mmdebstrap --quiet --variant="$1" --include="$2" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/cache/ldconfig/aux-cache' \
    "${@:3}" "$suite" -
}

import() {
  local name="$1"; shift
  podman import --quiet --change "LABEL carematch.base-recipe=$recipe" "$@" - "$name" >/dev/null
}

# Like gcr.io/distroless/cc-debian12:nonroot: glibc, libgcc, libstdc++, CA certificates, time
# zones, /etc/passwd with `nonroot` (65532); no shell, no package manager. `extract` unpacks
# exactly these packages without running their scripts (nor customize hooks), so the CA bundle
# and the users are made in extract hooks.
make_runtime() {
  debootstrap_to_stdout extract \
    base-files,netbase,tzdata,libc6,libgcc-s1,libstdc++6,libgomp1,ca-certificates \
    --extract-hook='cat "$1"/usr/share/ca-certificates/mozilla/*.crt > "$1"/etc/ssl/certs/ca-certificates.crt' \
    --extract-hook='printf "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n" > "$1"/etc/passwd' \
    --extract-hook='printf "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n" > "$1"/etc/group' \
    --extract-hook='install -d -m 0700 -o 0 -g 0 "$1"/root && install -d -m 0700 -o 65532 -g 65532 "$1"/home/nonroot && install -d -m 1777 "$1"/tmp' \
    --extract-hook='rm -rf "$1"/usr/share/ca-certificates "$1"/usr/share/lintian "$1"/usr/share/gcc "$1"/usr/share/gdb "$1"/var/lib/dpkg/info' \
    | import "$prefix/cc-debian12:nonroot" --change 'USER 65532:65532' --change 'WORKDIR /home/nonroot' \
      --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'
}

# What the Dockerfile's binary stage needs when it is given a built binary: strip (binutils).
make_tools() {
  debootstrap_to_stdout essential binutils | import "$prefix/debian-binutils:$suite" --change 'CMD ["/bin/sh"]'
}

# Stand-in for postgres:16-bookworm: Debian's PostgreSQL 15 with an entrypoint that honours the
# official image's POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB on first start.
make_postgres() {
  local entrypoint
  entrypoint="$(mktemp)"
  cat >"$entrypoint" <<'SH'
#!/bin/sh
set -eu
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
bin=/usr/lib/postgresql/15/bin
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /run/postgresql
  chown -R postgres:postgres "$PGDATA" /run/postgresql
  chmod 0700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  password_file="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" >"$password_file"
  "$bin/initdb" --pgdata="$PGDATA" --username="$user" --pwfile="$password_file" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$password_file"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  database="${POSTGRES_DB:-$user}"
  if [ "$database" != postgres ]; then
    echo "CREATE DATABASE \"$database\" OWNER \"$user\";" | "$bin/postgres" --single -D "$PGDATA" postgres >/dev/null
  fi
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/run/postgresql "$@"
SH
  # The package's own cluster (15/main, on a port of its choosing) is removed: the entrypoint
  # makes one in PGDATA, and the client tools find it through PGHOST and PGPORT.
  debootstrap_to_stdout essential postgresql-15,postgresql-client-15 \
    --customize-hook='rm -rf "$1"/etc/postgresql/15 "$1"/var/lib/postgresql/15' \
    --customize-hook="upload $entrypoint /usr/local/bin/docker-entrypoint.sh" \
    --customize-hook='chmod 0755 "$1"/usr/local/bin/docker-entrypoint.sh' \
    | import "$prefix/postgres:15-$suite" --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
      --change 'ENV PGDATA=/var/lib/postgresql/data' --change 'ENV PGHOST=/run/postgresql' \
      --change 'ENV PGPORT=5432' --change 'EXPOSE 5432' --change 'STOPSIGNAL SIGINT'
  rm -f "$entrypoint"
}

# Stand-in for redis:7-bookworm: Debian's redis 7.0, protected mode off as in the official
# image (the container network is the boundary), run as the redis user.
make_redis() {
  local entrypoint
  entrypoint="$(mktemp)"
  cat >"$entrypoint" <<'SH'
#!/bin/sh
set -eu
if [ "${1:-}" = redis-server ]; then shift; set -- redis-server --protected-mode no "$@"; fi
if [ "$(id -u)" = 0 ]; then exec setpriv --reuid=redis --regid=redis --init-groups "$@"; fi
exec "$@"
SH
  debootstrap_to_stdout essential redis-server \
    --customize-hook="upload $entrypoint /usr/local/bin/docker-entrypoint.sh" \
    --customize-hook='chmod 0755 "$1"/usr/local/bin/docker-entrypoint.sh' \
    | import "$prefix/redis:7-$suite" --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
      --change 'CMD ["redis-server"]' --change 'WORKDIR /tmp' --change 'EXPOSE 6379'
  rm -f "$entrypoint"
}

# Stand-in for node:20-bookworm-slim: Debian's bookworm has Node.js 18 only, and the gateway and
# the pinned Apollo packages need 20, so this machine's own `node` and `npm` are copied in.
make_node() {
  local node npm_root
  node="$(command -v node)" || { echo "node (20+) is needed to make the node image" >&2; exit 1; }
  npm_root="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  debootstrap_to_stdout essential ca-certificates,libstdc++6 \
    --customize-hook="copy-in $node /usr/local/bin" \
    --customize-hook="mkdir -p \"\$1\"/usr/local/lib/node_modules" \
    --customize-hook="copy-in $npm_root /usr/local/lib/node_modules" \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1"/usr/local/bin/npm' \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1"/usr/local/bin/npx' \
    | import "$prefix/node:20-$suite" --change 'CMD ["node"]'
}

# Stand-in for rust:1.95-slim-bookworm: a C toolchain from Debian plus this machine's Rust
# toolchain (the one rustup installed; Debian's rustc is too old for the workspace).
make_rust() {
  local sysroot
  sysroot="$(rustc --print sysroot)"
  debootstrap_to_stdout essential gcc,libc6-dev,binutils,make,pkg-config,ca-certificates \
    --customize-hook="mkdir -p \"\$1\"/usr/local/rust \"\$1\"/usr/local/cargo" \
    --customize-hook="sync-in $sysroot /usr/local/rust" \
    | import "$prefix/rust:1.95-$suite" --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV CARGO_HOME=/usr/local/cargo' --change 'CMD ["/bin/sh"]'
}

install_tools
declare -A names=(
  [runtime]="$prefix/cc-debian12:nonroot" [tools]="$prefix/debian-binutils:$suite"
  [postgres]="$prefix/postgres:15-$suite" [redis]="$prefix/redis:7-$suite"
  [node]="$prefix/node:20-$suite" [rust]="$prefix/rust:1.95-$suite"
)
for image in "${images[@]}"; do
  recipe="$(recipe_of "$image")"
  if current "${names[$image]}"; then
    log "${names[$image]} is current"
    continue
  fi
  started=$(date +%s)
  "make_$image"
  log "${names[$image]} made in $(($(date +%s) - started)) s ($(podman image inspect --format '{{.Size}}' "${names[$image]}") bytes)"
done
# The variables deploy/Dockerfile and deploy/compose.yaml read (defaults: the public images).
cat <<VARS
export RUNTIME_IMAGE=${names[runtime]}
export BUILD_IMAGE=$(if [[ " ${images[*]} " == *" rust "* ]]; then echo "${names[rust]}"; else echo "${names[tools]}"; fi)
export POSTGRES_IMAGE=${names[postgres]}
export REDIS_IMAGE=${names[redis]}
export NODE_IMAGE=${names[node]}
VARS
