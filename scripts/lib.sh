# Shared by the scripts: PATH for the tools the project installs for itself.
# shellcheck shell=bash
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$repo_root/.tools/node/bin:$HOME/.cargo/bin:$PATH"
