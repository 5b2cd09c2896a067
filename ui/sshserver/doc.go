// Package sshserver owns `gitopstui serve`: an SSH server (charm.land/wish/v2)
// that gives every authenticated key the full terminal UI, built per session,
// or runs one procedure per exec request through services/procio (which also
// owns the forwarding socket that `gitopstui serve` opens beside it).
//
// Security model:
//   - Public-key authentication only, against an OpenSSH authorized_keys file
//     (comment = user name, option role=admin|operator|viewer, viewer when
//     absent); the file is re-read when its size, mtime, inode, owner or
//     mode changes. Password, keyboard-interactive and "none" authentication
//     are refused.
//   - StrictModes, as OpenSSH's sshd: the data dir must be owned by the
//     server's user (or root) and not writable by group or others, or the
//     server refuses to start (CheckDataDir); the same holds for the
//     authorized_keys file and its directory, or every key is refused, with
//     the reason logged, until it is fixed. Platforms without unix file modes
//     skip these checks with a logged warning.
//   - The identity is the key the connection authenticated with: it is kept
//     in the ssh.Permissions of the verified key and looked up again in the
//     current file when each session starts and before every procedure call
//     (UI or exec), so a changed role applies to the next call. The sessions
//     of a key removed from the file are closed: at its next call, or when
//     the file is next checked (Config.KeysCheckInterval).
//   - A panic in a procedure call becomes INTERNAL for that call; a panic
//     elsewhere in a session ends that session with exit status 1. Both are
//     logged with their stack; the server and its other sessions go on.
//   - Roles are enforced by the procedure registry (services/gate) through
//     model.WithActor with Source "ssh"; audit records carry the key's user
//     name.
//   - Environment variables sent by the client are never read: sessions get
//     only TERM (from the pty request) and no child process is ever started.
//   - Nothing is forwarded: agent forwarding requests are answered "no",
//     port forwarding (ssh -L, -R) and subsystems are refused.
//   - Limits: concurrent sessions, new connections per second per IP, idle
//     timeout, maximum connection length, handshake timeout. New refuses a
//     limit that would switch its protection off (NaN, infinite, negative,
//     or beyond MaxRatePerIP and MaxSessionsLimit).
//   - Shutdown stops accepting, lets running procedure calls finish, asks every
//     UI to quit, and closes what is left when the deadline passes.
package sshserver
