package embedded

import (
	"errors"
	"os"
	"path/filepath"
)

// DefaultDataDir returns graphd's data directory when none is configured: $GRAPHD_DATA_DIR if set; else,
// as root (a system service), /var/lib/graphd; else $XDG_DATA_HOME/graphd; else ~/.local/share/graphd.
func DefaultDataDir(getenv func(string) string) (string, error) {
	return defaultDataDir(getenv, os.Geteuid())
}

func defaultDataDir(getenv func(string) string, euid int) (string, error) {
	if dir := getenv("GRAPHD_DATA_DIR"); dir != "" {
		return filepath.Clean(dir), nil
	}
	if euid == 0 {
		return "/var/lib/graphd", nil
	}
	// The XDG base directory specification says a relative path is invalid and must be ignored.
	if dir := getenv("XDG_DATA_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "graphd"), nil
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "share", "graphd"), nil
	}
	return "", errors.New("embedded: no data directory: set GRAPHD_DATA_DIR (HOME is not set either)")
}
