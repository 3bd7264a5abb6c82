#!/usr/bin/env bash
# Packs the Windows release zip from a Windows build directory (default
# build-windows/, made by scripts/build-windows.sh):
#   BUILD/rtether-windows-x86_64.zip: rtether.exe, rtether-run.cmd (double
#   click: `rtether.exe run`, a pause on error) and README-windows.txt
#   (packaging/windows/).
# First checks that rtether.exe imports only DLLs Windows ships: the C++
# runtime, libgcc and winpthreads must be linked in (the toolchain's -static).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build-windows}
exe=$build/rtether.exe
zip=$(realpath "$build")/rtether-windows-x86_64.zip
# What Windows 10 and later have in System32 (msvcrt.dll is the C runtime
# mingw-w64 links against).
system_dlls="ADVAPI32.dll bcrypt.dll IPHLPAPI.DLL KERNEL32.dll msvcrt.dll SHELL32.dll USER32.dll WS2_32.dll"

imports=$(x86_64-w64-mingw32-objdump -p "$exe" | sed -n 's/^\s*DLL Name: //p')
for dll in $imports; do
  if ! grep -qiw -- "$dll" <<<"$system_dlls"; then
    echo "error: $exe imports $dll, which Windows does not ship (imports: $imports)" >&2
    exit 1
  fi
done

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp "$exe" packaging/windows/rtether-run.cmd packaging/windows/README-windows.txt "$staging/"
rm -f "$zip"
(cd "$staging" && zip -q -X "$zip" rtether.exe rtether-run.cmd README-windows.txt)
echo "packed $zip (imports: $(echo $imports))"
