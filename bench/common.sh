# Sourced by the bench scripts: the error exit and the checks of their
# option values. $script names the script in messages.
die() { echo "$script: error: $*" >&2; exit 2; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '$2'"; }
