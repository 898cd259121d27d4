package embedded

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// maxSocketPath bounds the socket file's path. The kernel allows 107 bytes (sun_path is 108 with the NUL);
// the margin leaves room for the ".lock" file PostgreSQL keeps next to the socket.
const maxSocketPath = 100

// socketDirFor returns the directory for the server's socket: DataDir/run if the socket's path fits, else a
// directory under /tmp named by a hash of the data directory. It is a function of the data directory alone
// (not of $TMPDIR or the process), so that every graphd process computes the same one; attaching processes
// read the real one from postmaster.pid anyway. PostgreSQL touches its socket files periodically, which keeps
// tmp cleaners such as systemd-tmpfiles away from them.
func socketDirFor(dataDir string) string {
	dir := filepath.Join(dataDir, "run")
	if len(socketPath(dir, port)) < maxSocketPath {
		return dir
	}
	sum := sha256.Sum256([]byte(dataDir))
	return filepath.Join("/tmp", "graphd-"+hex.EncodeToString(sum[:6]))
}

func socketPath(dir string, port int) string {
	return filepath.Join(dir, ".s.PGSQL."+strconv.Itoa(port))
}

// account is the OS user that runs initdb and postgres when that is not the current user. A nil *account
// means the current user, and its methods then do only what the current user needs.
type account struct {
	name   string
	uid    uint32
	gid    uint32
	groups []uint32 // including gid
}

// serverAccount returns the postgres user when running as root, because PostgreSQL refuses to run as root,
// and nil otherwise.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	const name = "postgres"
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("embedded: PostgreSQL refuses to run as root, so graphd runs it as the %q user, but: %w", name, err)
	}
	a := &account{name: name}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("embedded: uid of %q: %w", name, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("embedded: gid of %q: %w", name, err)
	}
	a.uid, a.gid = uint32(uid), uint32(gid)
	a.groups = []uint32{a.gid}
	gids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("embedded: groups of %q: %w", name, err)
	}
	for _, g := range gids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil && !slices.Contains(a.groups, uint32(n)) {
			a.groups = append(a.groups, uint32(n))
		}
	}
	return a, nil
}

// credential returns the exec credential that switches to a, with exactly a's groups (so that none of
// root's supplementary groups leak into the server).
func (a *account) credential() *syscall.Credential {
	if a == nil {
		return nil
	}
	return &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: a.groups}
}

func (a *account) owns(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	if a == nil {
		return int(st.Uid) == os.Geteuid()
	}
	return st.Uid == a.uid
}

// canEnter reports whether a may traverse the directory fi by its mode bits (ACLs are not consulted).
func (a *account) canEnter(fi fs.FileInfo) bool {
	if a == nil {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == a.uid:
		return perm&0o100 != 0
	case slices.Contains(a.groups, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// prepareDir makes path a directory owned by a with mode 0700, creating it if needed.
func (a *account) prepareDir(path string) error {
	if err := os.Mkdir(path, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("embedded: %w", err)
	}
	if a != nil {
		if err := os.Lchown(path, int(a.uid), int(a.gid)); err != nil {
			return fmt.Errorf("embedded: %w", err)
		}
	}
	if err := os.Chmod(path, 0o700); err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	return nil
}

// prepareSocketDir makes dir a private directory of a. Under DataDir that is prepareDir; under /tmp anyone
// could have created the path first, so an existing one must already be a's own directory, not a symlink:
// else another user could watch or impersonate the server's socket.
func (a *account) prepareSocketDir(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return a.prepareDir(dir)
	case err != nil:
		return fmt.Errorf("embedded: socket directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("embedded: socket directory %s is not a directory", dir)
	}
	if !a.owns(fi) {
		if filepath.Dir(dir) == "/tmp" {
			return fmt.Errorf("embedded: refusing socket directory %s: it belongs to another user (remove it, or use a shorter data directory path)", dir)
		}
		return a.prepareDir(dir) // ours, under DataDir: fix the owner
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	return nil
}

// prepareDataDir creates dataDir if needed. As root it also makes sure the postgres user can reach
// pgdata and the socket directory inside: dataDir gets execute-only bits for group and others (0711, so
// the postgres user can pass through without listing or reading graphd's other files), and every parent
// must already be traversable; graphd does not loosen permissions of directories it does not own.
func prepareDataDir(dataDir string, a *account) error {
	perm := os.FileMode(0o700)
	if a != nil {
		perm = 0o711
	}
	if err := os.MkdirAll(dataDir, perm); err != nil {
		return fmt.Errorf("embedded: creating data directory: %w", err)
	}
	if a == nil {
		return nil
	}
	fi, err := os.Stat(dataDir)
	if err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	if !a.canEnter(fi) {
		if err := os.Chmod(dataDir, fi.Mode().Perm()|0o011); err != nil {
			return fmt.Errorf("embedded: letting the %s user into the data directory: %w", a.name, err)
		}
	}
	resolved, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	// Outermost first, so that the error names the directory to fix first.
	var parents []string
	for dir := filepath.Dir(resolved); ; dir = filepath.Dir(dir) {
		parents = append(parents, dir)
		if dir == "/" || dir == "." {
			break
		}
	}
	slices.Reverse(parents)
	for _, dir := range parents {
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("embedded: %w", err)
		}
		if !a.canEnter(fi) {
			return fmt.Errorf("embedded: PostgreSQL runs as the %s user, which cannot enter %s (mode %v) on the way to the data directory %s: make it traversable (chmod o+x %s) or choose another data directory",
				a.name, dir, fi.Mode().Perm(), dataDir, dir)
		}
	}
	return nil
}

// syncDir makes a rename inside dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("embedded: syncing %s: %w", dir, err)
	}
	return nil
}
