#!/bin/sh
# Installs the latest bigin-mcp release (or $BIGIN_MCP_VERSION, e.g. 0.2.0)
# for this machine into ~/.local/bin (or $BIGIN_MCP_INSTALL_DIR):
#
#   curl -LsSf https://github.com/bigin-mcp/bigin-mcp/releases/latest/download/install.sh | sh
#
# Downloads bigin-mcp-<version>-<target>.tar.gz and SHA256SUMS from the
# GitHub release, checks the sum, and copies the binary. Needs curl (or
# wget), tar and sha256sum (or shasum). Changes nothing else.
set -eu

repo=${BIGIN_MCP_REPO:-https://github.com/bigin-mcp/bigin-mcp}
dir=${BIGIN_MCP_INSTALL_DIR:-$HOME/.local/bin}

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

fetch() { # URL FILE
    if command -v curl >/dev/null 2>&1; then
        curl --proto '=https,file' -fsSL "$1" -o "$2"
    elif command -v wget >/dev/null 2>&1; then
        wget -q "$1" -O "$2"
    else
        die "needs curl or wget"
    fi
}

case "$(uname -s)" in
Linux) os=unknown-linux-gnu ;;
Darwin) os=apple-darwin ;;
*) die "no prebuilt binary for $(uname -s); on Windows use install.ps1, elsewhere: cargo install --locked bigin-mcp" ;;
esac
case "$(uname -m)" in
x86_64 | amd64) cpu=x86_64 ;;
aarch64 | arm64) cpu=aarch64 ;;
*) die "no prebuilt binary for $(uname -m); use: cargo install --locked bigin-mcp" ;;
esac
target=$cpu-$os

if [ -n "${BIGIN_MCP_VERSION:-}" ]; then
    base=$repo/releases/download/v$BIGIN_MCP_VERSION
else
    base=$repo/releases/latest/download
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS" || die "cannot download $base/SHA256SUMS"
archive=$(grep -o "bigin-mcp-[^ ]*-$target\.tar\.gz" "$tmp/SHA256SUMS" | head -n 1)
[ -n "$archive" ] || die "the release has no archive for $target"
fetch "$base/$archive" "$tmp/$archive" || die "cannot download $base/$archive"
(
    cd "$tmp"
    grep " $archive\$" SHA256SUMS >sum
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum -c sum >/dev/null
    else
        shasum -a 256 -c sum >/dev/null
    fi
) || die "$archive does not match its SHA-256 sum; nothing installed"
mkdir -p "$tmp/x" "$dir"
tar -C "$tmp/x" -xzf "$tmp/$archive"
cp "$tmp/x/bigin-mcp" "$dir/bigin-mcp.new"
chmod 755 "$dir/bigin-mcp.new"
mv -f "$dir/bigin-mcp.new" "$dir/bigin-mcp"
say "installed $("$dir/bigin-mcp" --version) to $dir/bigin-mcp"
case ":$PATH:" in
*":$dir:"*) ;;
*) say "$dir is not on your PATH; add it, or call $dir/bigin-mcp" ;;
esac
say "next: $dir/bigin-mcp install claude-desktop --demo   (try it), then bigin-mcp login"
