@echo off
rem rtether-run.cmd: double-click to start reverse tethering. It runs
rem "rtether.exe run" from this folder, where adb.exe and gnirehtet.apk are
rem looked for; arguments are passed on (rtether-run.cmd SERIAL -d 192.0.2.53).
rem On an error the window stays open until a key is pressed.
cd /d "%~dp0"
"%~dp0rtether.exe" run %*
if errorlevel 1 pause
