// Package sshserver owns `gitopstui serve`: an SSH server (charm.land/wish/v2)
// that gives every authenticated key the full terminal UI, built per session,
// or runs one procedure per exec request through services/procio (which also
// owns the forwarding socket that `gitopstui serve` opens beside it).
//
// Security model:
//   - Public-key authentication only, against an OpenSSH authorized_keys file
//     (comment = user name, option role=admin|operator|viewer, viewer when
//     absent); the file is re-read when its size, mtime or inode changes.
//     Password, keyboard-interactive and "none" authentication are refused.
//   - The identity is the key the connection authenticated with: it is kept
//     in the ssh.Permissions of the verified key and checked again (and looked
//     up again in the current file) when each session starts.
//   - Roles are enforced by services.Registry through model.WithActor with
//     Source "ssh"; audit records carry the key's user name.
//   - Environment variables sent by the client are never read: sessions get
//     only TERM (from the pty request) and no child process is ever started.
//   - Nothing is forwarded: agent forwarding requests are answered "no",
//     port forwarding (ssh -L, -R) and subsystems are refused.
//   - Limits: concurrent sessions, new connections per second per IP, idle
//     timeout, maximum connection length, handshake timeout.
//   - Shutdown stops accepting, lets running procedure calls finish, asks every
//     UI to quit, and closes what is left when the deadline passes.
package sshserver
