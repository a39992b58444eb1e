# Shared by every launcher: `--help` or `-h` as the first argument prints the launcher's usage and
# exits 0 before anything else runs. A launcher sources this file first (or sources a common.sh
# whose first command sources it): a file sourced without arguments sees the launcher's arguments.
#
# The usage is read from the launcher itself, so it cannot drift from the code: its comment block
# (the `#` lines at the top), then each setting read from the environment, ${NAME:-default}, in the
# launcher and in the repository files it sources, with its default.

# usage_files FILE: FILE and the files it sources with "$(dirname "$0")/...", and what those source.
usage_files() {
  local file=$1 relative sourced
  echo "$file"
  while read -r relative; do
    sourced="$(dirname "$file")/$relative"
    [ -f "$sourced" ] && [ "$(basename "$sourced")" != usage.sh ] || continue
    echo "$sourced"
    grep -oE 'source "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)/[^"]+"' "$sourced" \
      | sed -E 's/.*\}"\)\/([^"]+)"/\1/' \
      | while read -r nested; do [ "$(basename "$nested")" != usage.sh ] && [ -f "$(dirname "$sourced")/$nested" ] && echo "$(dirname "$sourced")/$nested"; done
  done < <(grep -oE '^(source|\.) "\$\(dirname "\$0"\)/[^"]+"' "$file" | sed -E 's/.*"\)\/([^"]+)"/\1/')
}

# usage_settings FILE...: "NAME<TAB>default" per ${NAME:-default} or ${NAME:?message}, first use wins,
# except that a required setting's message replaces an empty default (${NAME:-} to test whether it is
# set, ${NAME:?message} where it is needed). A default may span lines: MODEL lists of several models.
usage_settings() {
  local file
  for file in "$@"; do tr '\n' ' ' < "$file"; echo; done \
    | grep -oE '\$\{[A-Z][A-Z0-9_]*:[-?][^}]*\}' \
    | sed -E 's/^\$\{([A-Z0-9_]+):(.*)\}$/\1\t\2/; s/ +/ /g' \
    | awk -F'\t' '!($1 in value) { order[++n] = $1; value[$1] = $2; next }
                  value[$1] == "-" && $2 ~ /^\?/ { value[$1] = $2 }
                  END { for (i = 1; i <= n; i++) print order[i] "\t" value[order[i]] }'
}

# usage_comment FILE: the comment block at the top of FILE, after #! and the settings launchers put
# first (model="${MODEL:-...}", which may span lines).
usage_comment() {
  awk 'NR == 1 && /^#!/ { next }
       !started && /^[a-z_]+="\$\{[A-Z_]+:-/ { skipping = !/\}"( *#.*)?$/; next }
       skipping { skipping = !/\}"( *#.*)?$/; next }
       /^#/ { sub(/^# ?/, ""); print; started = 1; next }
       { exit }' "$1"
}

# launcher_usage FILE: the usage text of a launcher.
launcher_usage() {
  local file=$1 root variable default
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  echo "usage: [SETTING=value ...] bash $(realpath --relative-to="$root" "$file") [extra arguments]"
  echo
  usage_comment "$file"
  local settings
  settings="$(mapfile -t files < <(usage_files "$file"); usage_settings "${files[@]}")"
  [ -n "$settings" ] || return 0
  echo
  echo "Settings (environment variables, with their defaults):"
  while IFS=$'\t' read -r variable default; do
    case "$default" in
      -) printf '  %-18s (empty)\n' "$variable" ;;
      -*) printf '  %-18s %s\n' "$variable" "$(echo "${default#-}" | sed -E 's/^ +| +$//g')" ;;
      \?*) printf '  %-18s no default (%s)\n' "$variable" "${default#\?}" ;;
    esac
  done <<< "$settings"
}

case "${1:-}" in
  -h|--help) launcher_usage "$0"; exit 0 ;;
esac
