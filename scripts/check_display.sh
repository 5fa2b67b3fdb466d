#!/usr/bin/env bash
# Before opening a real window on Linux: say which system libraries Qt's X11 plugin lacks
# (Qt's own message is a bare "could not load the Qt platform plugin xcb") and what installs
# them.  Silent when they are all there, or when Qt is not asked for a real window.
set -uo pipefail
[ "$(uname -s)" = Linux ] || exit 0
case "${QT_QPA_PLATFORM:-xcb}" in xcb*) ;; *) exit 0 ;; esac
plugin=$(find .venv -path '*PySide6/Qt/plugins/platforms/libqxcb.so' 2>/dev/null | head -n 1)
[ -n "$plugin" ] || exit 0
lib_dir=$(dirname "$plugin")/../../lib
missing=$(LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$plugin" 2>/dev/null \
  | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')
if [ -n "$missing" ]; then
  echo "TagAssist needs system libraries for a window that this machine lacks: $missing" >&2
  echo "On Debian/Ubuntu: sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" \
       "libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1" \
       "libxkbcommon-x11-0 libegl1 libgl1" >&2
  echo "(Without a display, QT_QPA_PLATFORM=offscreen runs it headless, e.g. for" \
       "tagassist --sample --screenshot OUT.png.)" >&2
  exit 1
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found (DISPLAY and WAYLAND_DISPLAY are unset): TagAssist needs a desktop" \
       "session, or QT_QPA_PLATFORM=offscreen to run headless." >&2
  exit 1
fi
