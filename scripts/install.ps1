# Installs the latest bigin-mcp release (or $env:BIGIN_MCP_VERSION) for
# Windows x86_64 into %LOCALAPPDATA%\Programs\bigin-mcp (or
# $env:BIGIN_MCP_INSTALL_DIR) and adds that folder to the user's PATH:
#
#   powershell -ExecutionPolicy Bypass -c "irm https://github.com/bigin-mcp/bigin-mcp/releases/latest/download/install.ps1 | iex"
#
# Downloads bigin-mcp-<version>-x86_64-pc-windows-msvc.zip and SHA256SUMS
# from the GitHub release and checks the sum before installing.
$ErrorActionPreference = 'Stop'

$repo = if ($env:BIGIN_MCP_REPO) { $env:BIGIN_MCP_REPO } else { 'https://github.com/bigin-mcp/bigin-mcp' }
$dir = if ($env:BIGIN_MCP_INSTALL_DIR) { $env:BIGIN_MCP_INSTALL_DIR } else { Join-Path $env:LOCALAPPDATA 'Programs\bigin-mcp' }
$base = if ($env:BIGIN_MCP_VERSION) { "$repo/releases/download/v$($env:BIGIN_MCP_VERSION)" } else { "$repo/releases/latest/download" }
$target = 'x86_64-pc-windows-msvc'
if ($env:PROCESSOR_ARCHITECTURE -ne 'AMD64') {
    throw "no prebuilt binary for $($env:PROCESSOR_ARCHITECTURE); use: cargo install --locked bigin-mcp"
}

$tmp = Join-Path ([System.IO.Path]::GetTempPath()) ("bigin-mcp-" + [guid]::NewGuid())
New-Item -ItemType Directory -Path $tmp | Out-Null
try {
    $sums = Join-Path $tmp 'SHA256SUMS'
    Invoke-WebRequest -UseBasicParsing -Uri "$base/SHA256SUMS" -OutFile $sums
    $line = Get-Content $sums | Where-Object { $_ -match "bigin-mcp-\S+-$target\.zip$" } | Select-Object -First 1
    if (-not $line) { throw "the release has no archive for $target" }
    $expected, $archive = $line -split '\s+', 2
    $zip = Join-Path $tmp $archive
    Invoke-WebRequest -UseBasicParsing -Uri "$base/$archive" -OutFile $zip
    $actual = (Get-FileHash -Algorithm SHA256 $zip).Hash.ToLower()
    if ($actual -ne $expected.ToLower()) { throw "$archive does not match its SHA-256 sum; nothing installed" }
    Expand-Archive -Path $zip -DestinationPath (Join-Path $tmp 'x')
    New-Item -ItemType Directory -Force -Path $dir | Out-Null
    Copy-Item -Force (Join-Path $tmp 'x\bigin-mcp.exe') (Join-Path $dir 'bigin-mcp.exe')
} finally {
    Remove-Item -Recurse -Force $tmp
}

$userPath = [Environment]::GetEnvironmentVariable('Path', 'User')
if (-not ($userPath -split ';' | Where-Object { $_ -eq $dir })) {
    [Environment]::SetEnvironmentVariable('Path', "$userPath;$dir", 'User')
    Write-Host "Added $dir to your PATH (new terminals will see it)."
}
Write-Host "Installed $(& (Join-Path $dir 'bigin-mcp.exe') --version) to $dir"
Write-Host "Next: bigin-mcp install claude-desktop --demo   (try it), then bigin-mcp login"
