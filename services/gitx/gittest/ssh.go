package gittest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHServer is an SSH Git server on 127.0.0.1 that runs the real
// git-upload-pack and git-receive-pack for clients with an authorized key.
type SSHServer struct {
	// Addr is host:port of the server.
	Addr string
	// Root holds the bare repositories.
	Root string
	// KnownHosts is a known_hosts file listing this server's host key.
	KnownHosts string
	// ClientKey is an unencrypted OpenSSH private key file authorized on the server.
	ClientKey string
	// ClientSigner is the same key as a signer.
	ClientSigner ssh.Signer
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey

	mu         sync.Mutex
	authorized map[string]bool
	conns      map[net.Conn]bool
	wg         sync.WaitGroup
}

// NewSSHServer starts a server serving the bare repositories under root
// (for example an HTTPServer's Root, so both protocols reach the same
// repositories); it stops when the test ends.
func NewSSHServer(t testing.TB, root string) *SSHServer {
	t.Helper()
	git := GitPath(t)
	dir := t.TempDir()
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	_, clientPriv, _ := ed25519.GenerateKey(rand.Reader)
	clientSigner, err := ssh.NewSignerFromKey(clientPriv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(clientPriv, "gittest")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &SSHServer{
		Root: root, ClientKey: keyFile, ClientSigner: clientSigner, HostKey: hostSigner.PublicKey(),
		authorized: map[string]bool{string(clientSigner.PublicKey().Marshal()): true},
		conns:      map[net.Conn]bool{},
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.authorized[string(key.Marshal())] {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("unknown public key")
		},
	}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	s.KnownHosts = filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey)
	if err := os.WriteFile(s.KnownHosts, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c, cfg, git)
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// Authorize lets key log in.
func (s *SSHServer) Authorize(key ssh.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authorized[string(key.Marshal())] = true
}

// RepoURL is the ssh:// clone URL of the repository name under Root.
func (s *SSHServer) RepoURL(name string) string {
	return "ssh://git@" + s.Addr + "/" + strings.TrimPrefix(name, "/")
}

// StartAgent serves an SSH agent holding the client key on a unix socket in
// a temporary directory and returns the socket path.
func (s *SSHServer) StartAgent(t testing.TB) string {
	t.Helper()
	kr := agent.NewKeyring()
	priv, err := ssh.ParseRawPrivateKey(mustRead(t, s.ClientKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "agent")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = agent.ServeAgent(kr, c)
				_ = c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		_ = os.RemoveAll(dir)
	})
	return sock
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (s *SSHServer) serve(c net.Conn, cfg *ssh.ServerConfig, git string) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(ch, creqs, git)
		}()
	}
}

func (s *SSHServer) session(ch ssh.Channel, reqs <-chan *ssh.Request, git string) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			if req.WantReply {
				_ = req.Reply(req.Type == "env", nil)
			}
			continue
		}
		var payload struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
			_ = req.Reply(false, nil)
			return
		}
		svc, arg, _ := strings.Cut(payload.Command, " ")
		if svc != "git-upload-pack" && svc != "git-receive-pack" {
			_ = req.Reply(false, nil)
			return
		}
		_ = req.Reply(true, nil)
		repo := filepath.Join(s.Root, filepath.Clean("/"+unquote(arg)))
		cmd := exec.Command(git, strings.TrimPrefix(svc, "git-"), repo)
		cmd.Env = Env()
		cmd.Stdout = ch
		cmd.Stderr = ch.Stderr()
		stdin, err := cmd.StdinPipe()
		code := uint32(0)
		if err == nil {
			err = cmd.Start()
		}
		if err == nil {
			go func() {
				_, _ = io.Copy(stdin, ch)
				_ = stdin.Close()
			}()
			err = cmd.Wait()
		}
		if err != nil {
			code = 1
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = uint32(ee.ExitCode())
			} else {
				_, _ = io.WriteString(ch.Stderr(), err.Error()+"\n")
			}
		}
		status := make([]byte, 4)
		binary.BigEndian.PutUint32(status, code)
		_, _ = ch.SendRequest("exit-status", false, status)
		return
	}
}

// unquote undoes git's sq_quote of the repository path.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		s = s[1 : len(s)-1]
		s = strings.ReplaceAll(s, `'\''`, `'`)
		s = strings.ReplaceAll(s, `'\!'`, `!`)
	}
	return s
}
