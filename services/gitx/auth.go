package gitx

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gitopstui/gitopstui/model"
)

// Auth says where the credentials of one remote come from. It holds
// references only (environment variable names, file paths), never secrets,
// so it can be stored with the repository's settings.
//
// HTTPS: PasswordEnv (a password or access token; Username defaults to the
// URL's user, else "git"), else credentials in the URL, else `git credential
// fill` (unless NoCredentialHelper), else anonymous.
//
// SSH: SSHKeyFile (optionally encrypted, passphrase from
// SSHKeyPassphraseEnv), else the SSH agent at SSHAgentSocket or
// $SSH_AUTH_SOCK. The host key is always checked against KnownHostsFile
// (default ~/.ssh/known_hosts).
type Auth struct {
	Username            string `json:"username,omitempty"`
	PasswordEnv         string `json:"passwordEnv,omitempty"`
	NoCredentialHelper  bool   `json:"noCredentialHelper,omitempty"`
	SSHKeyFile          string `json:"sshKeyFile,omitempty"`
	SSHKeyPassphraseEnv string `json:"sshKeyPassphraseEnv,omitempty"`
	SSHAgentSocket      string `json:"sshAgentSocket,omitempty"`
	// NoSSHAgent never asks an SSH agent (a server lends its user's to nobody).
	NoSSHAgent     bool   `json:"noSSHAgent,omitempty"`
	KnownHostsFile string `json:"knownHostsFile,omitempty"`
}

// remoteAuth is the resolved credential of one remote operation.
type remoteAuth struct {
	method  transport.AuthMethod
	helper  []string // credential-helper description (protocol=, host=, ...) when it supplied the secret
	closers []func()
}

func (a *remoteAuth) close() {
	if a == nil {
		return
	}
	for _, c := range a.closers {
		c()
	}
}

func (r *Repo) endpoint() (*transport.Endpoint, error) {
	ep, err := transport.NewEndpoint(r.url)
	if err != nil {
		return nil, model.Errorf(model.CodeBadRequest, "git remote url %q: %v", redact(r.url), err)
	}
	return ep, nil
}

// transportAuth resolves r.auth into a go-git auth method.
func (r *Repo) transportAuth(ctx context.Context) (*remoteAuth, error) {
	ep, err := r.endpoint()
	if err != nil {
		return nil, err
	}
	switch ep.Protocol {
	case "http", "https":
		return r.httpAuth(ctx, ep)
	case "ssh":
		return r.sshAuth(ep)
	default: // file, git: no credentials
		return &remoteAuth{}, nil
	}
}

func (r *Repo) httpAuth(ctx context.Context, ep *transport.Endpoint) (*remoteAuth, error) {
	user := r.auth.Username
	if user == "" {
		user = ep.User
	}
	if r.auth.PasswordEnv != "" {
		secret := r.getenv(r.auth.PasswordEnv)
		if secret == "" {
			return nil, model.Errorf(model.CodeGitAuthFailed, "git credentials for %s: environment variable %s is empty or unset", redact(r.url), r.auth.PasswordEnv).
				WithDetail("remote", redact(r.url)).WithDetail("env", r.auth.PasswordEnv)
		}
		if user == "" {
			user = "git"
		}
		return &remoteAuth{method: &githttp.BasicAuth{Username: user, Password: secret}}, nil
	}
	if ep.Password != "" {
		return &remoteAuth{method: &githttp.BasicAuth{Username: ep.User, Password: ep.Password}}, nil
	}
	if r.auth.NoCredentialHelper {
		return &remoteAuth{}, nil
	}
	desc := []string{"protocol=" + ep.Protocol, "host=" + ep.Host}
	if ep.Port > 0 {
		desc[1] += ":" + strconv.Itoa(ep.Port)
	}
	if p := strings.TrimPrefix(ep.Path, "/"); p != "" {
		desc = append(desc, "path="+p)
	}
	if user != "" {
		desc = append(desc, "username="+user)
	}
	out, err := r.gitCredential(ctx, "fill", desc)
	if err != nil {
		return &remoteAuth{}, nil // no helper, or it has nothing: anonymous
	}
	var u, p string
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "username":
			u = v
		case "password":
			p = v
		}
	}
	if p == "" {
		return &remoteAuth{}, nil
	}
	full := append(append([]string{}, desc...), "username="+u, "password="+p)
	return &remoteAuth{method: &githttp.BasicAuth{Username: u, Password: p}, helper: full}, nil
}

// gitCredential runs `git credential <verb>` with the helper protocol.
func (r *Repo) gitCredential(ctx context.Context, verb string, desc []string) (string, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, git, "credential", verb)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "GCM_INTERACTIVE=never")
	cmd.Env = append(cmd.Env, r.env...)
	var in bytes.Buffer
	for _, d := range desc {
		if strings.ContainsAny(d, "\n\x00") {
			return "", errors.New("invalid credential field")
		}
		in.WriteString(d + "\n")
	}
	in.WriteString("\n")
	cmd.Stdin = &in
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", err
	}
	return out.String(), nil
}

// credentialDone tells the credential helper whether its answer worked, as
// git does after an operation.
func (r *Repo) credentialDone(ctx context.Context, a *remoteAuth, ok bool) {
	if a == nil || a.helper == nil {
		return
	}
	verb := "reject"
	if ok {
		verb = "approve"
	}
	_, _ = r.gitCredential(context.WithoutCancel(ctx), verb, a.helper)
}

func (r *Repo) sshAuth(ep *transport.Endpoint) (*remoteAuth, error) {
	user := r.auth.Username
	if user == "" {
		user = ep.User
	}
	if user == "" {
		user = "git"
	}
	a := &remoteAuth{}
	sa := &sshAuthMethod{user: user}
	if r.auth.SSHKeyFile != "" {
		signer, err := r.loadKey(r.auth.SSHKeyFile)
		if err != nil {
			return nil, err
		}
		sa.methods = append(sa.methods, ssh.PublicKeys(signer))
	} else if r.auth.NoSSHAgent {
		return nil, model.Errorf(model.CodeGitAuthFailed, "no SSH credentials for %s: no key file configured, and this server lends no SSH agent", redact(r.url)).
			WithDetail("remote", redact(r.url))
	} else {
		sock := r.auth.SSHAgentSocket
		if sock == "" {
			sock = r.getenv("SSH_AUTH_SOCK")
		}
		if sock == "" {
			return nil, model.Errorf(model.CodeGitAuthFailed, "no SSH credentials for %s: no key file configured and no SSH agent (SSH_AUTH_SOCK is unset)", redact(r.url)).
				WithDetail("remote", redact(r.url))
		}
		conn, err := net.Dial("unix", sock)
		if err != nil {
			return nil, model.Errorf(model.CodeGitAuthFailed, "SSH agent at %s: %v", sock, err).WithDetail("remote", redact(r.url))
		}
		a.closers = append(a.closers, func() { _ = conn.Close() })
		sa.methods = append(sa.methods, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
	}
	khPath := r.knownHostsPath()
	cb, err := knownhosts.New(khPath)
	if err != nil {
		a.close()
		return nil, model.Errorf(model.CodeGitAuthFailed, "cannot check the SSH host key of %s: known_hosts file %s: %v", redact(r.url), khPath, err).
			WithDetail("remote", redact(r.url)).WithDetail("knownHosts", khPath)
	}
	port := ep.Port
	if port <= 0 {
		port = 22
	}
	sa.hostKey = cb
	sa.algos = hostKeyAlgorithms(cb, net.JoinHostPort(ep.Host, strconv.Itoa(port)))
	a.method = sa
	return a, nil
}

// knownHostsPath is Auth.KnownHostsFile, else ~/.ssh/known_hosts.
func (r *Repo) knownHostsPath() string {
	if r.auth.KnownHostsFile != "" {
		return r.auth.KnownHostsFile
	}
	home := r.getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".ssh", "known_hosts")
}

func (r *Repo) loadKey(path string) (ssh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, model.Errorf(model.CodeGitAuthFailed, "SSH key file: %v", err).WithDetail("keyFile", path)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if r.auth.SSHKeyPassphraseEnv == "" || r.getenv(r.auth.SSHKeyPassphraseEnv) == "" {
			return nil, model.Errorf(model.CodeGitAuthFailed, "SSH key file %s is encrypted and no passphrase is configured", path).WithDetail("keyFile", path)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(r.getenv(r.auth.SSHKeyPassphraseEnv)))
	}
	if err != nil {
		return nil, model.Errorf(model.CodeGitAuthFailed, "SSH key file %s: %v", path, err).WithDetail("keyFile", path)
	}
	return signer, nil
}

// sshAuthMethod is a go-git SSH auth method whose host key check is the
// known_hosts file (never InsecureIgnoreHostKey).
type sshAuthMethod struct {
	user    string
	methods []ssh.AuthMethod
	hostKey ssh.HostKeyCallback
	algos   []string
}

func (a *sshAuthMethod) Name() string   { return "ssh-gitx" }
func (a *sshAuthMethod) String() string { return "user: " + a.user + ", name: ssh-gitx" }

// ClientConfig implements go-git's ssh.AuthMethod.
func (a *sshAuthMethod) ClientConfig() (*ssh.ClientConfig, error) {
	return &ssh.ClientConfig{User: a.user, Auth: a.methods, HostKeyCallback: a.hostKey, HostKeyAlgorithms: a.algos, Timeout: 30 * time.Second}, nil
}

// hostKeyAlgorithms lists the key algorithms known_hosts has for hostport,
// so the server offers a key we can verify (as OpenSSH does). Nil when the
// host is unknown: the handshake then fails with "key is unknown".
func hostKeyAlgorithms(cb ssh.HostKeyCallback, hostport string) []string {
	probe, _ := ssh.NewPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	err := cb(hostport, &net.TCPAddr{IP: net.IPv4zero}, probe)
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			algos = append(algos, s)
		}
	}
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
			add(ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return algos
}

// remoteError maps a transport error to a model error; msg is what the
// remote said (sideband), if anything.
func (r *Repo) remoteError(ctx context.Context, op string, err error, msg string, a *remoteAuth) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return model.Wrap(model.CodeInternal, ctxErr, fmt.Sprintf("git %s %s", op, redact(r.url)))
	}
	remote := redact(r.url)
	text := err.Error()
	said := strings.TrimSpace(msg)
	withMsg := func(e *model.Error) *model.Error {
		if said != "" {
			e.WithDetail("remoteMessage", said)
		}
		return e.WithDetail("remote", remote).WithDetail("operation", op)
	}
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired):
		r.credentialDone(ctx, a, false)
		reason := strings.TrimSpace(strings.TrimPrefix(text, transport.ErrAuthenticationRequired.Error()+":"))
		if said == "" {
			said = reason
		}
		return withMsg(model.Errorf(model.CodeGitAuthFailed, "git %s %s: authentication failed: %s", op, remote, nonEmpty(reason, "the remote rejected the credentials")))
	case errors.Is(err, transport.ErrAuthorizationFailed):
		reason := strings.TrimSpace(strings.TrimPrefix(text, transport.ErrAuthorizationFailed.Error()+":"))
		if said == "" {
			said = reason
		}
		what := "read access"
		if op == "push" {
			what = "the push (read-only repository or no write permission)"
		}
		return withMsg(model.Errorf(model.CodeInsufficientPermission, "git %s %s: the remote refused %s: %s", op, remote, what, nonEmpty(reason, "403 Forbidden")))
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return withMsg(model.Errorf(model.CodeRepositoryNotFound, "git %s %s: repository not found", op, remote))
	case errors.As(err, &ke) && len(ke.Want) > 0, strings.Contains(text, "knownhosts: key mismatch"):
		return withMsg(model.Errorf(model.CodeGitAuthFailed, "git %s %s: the SSH host key does not match the one in %s (possible man-in-the-middle)", op, remote, r.knownHostsPath())).WithDetail("reason", "host_key_mismatch")
	case errors.As(err, &ke), strings.Contains(text, "knownhosts: key is unknown"):
		return withMsg(model.Errorf(model.CodeGitAuthFailed, "git %s %s: the SSH host key is not in %s; add it (ssh-keyscan) after checking its fingerprint", op, remote, r.knownHostsPath())).WithDetail("reason", "host_key_unknown")
	case errors.As(err, &re):
		return withMsg(model.Errorf(model.CodeGitAuthFailed, "git %s %s: the SSH host key is revoked", op, remote)).WithDetail("reason", "host_key_revoked")
	case strings.Contains(text, "unable to authenticate"), strings.Contains(text, "Permission denied (publickey"):
		return withMsg(model.Errorf(model.CodeGitAuthFailed, "git %s %s: SSH authentication failed: %s", op, remote, text))
	}
	e := model.Wrap(model.CodeInternal, err, fmt.Sprintf("git %s %s", op, remote))
	return withMsg(e)
}

func nonEmpty(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// redact removes a password from a URL for messages.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return u.Redacted()
		}
	}
	return raw
}
