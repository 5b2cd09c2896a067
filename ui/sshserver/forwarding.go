package sshserver

import (
	"log/slog"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// agentForwardingRequest is OpenSSH's session request for agent forwarding.
const agentForwardingRequest = "auth-agent-req@openssh.com"

// Forwarding of every kind is off. The server takes only "session" channels
// (so direct-tcpip, that is ssh -L, is rejected) and has no global request
// handlers (so tcpip-forward, ssh -R, is refused). The SSH library answers
// an agent forwarding request with "yes" on its own; the session channel is
// wrapped so that the request is answered "no" before the library sees it:
// a client never believes its agent reached the server, and nothing on the
// server could use it.
func (s *Server) forwardingOff(srv *ssh.Server) error {
	srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": s.sessionChannel}
	srv.RequestHandlers = map[string]ssh.RequestHandler{}
	srv.SubsystemHandlers = map[string]ssh.SubsystemHandler{}
	srv.LocalPortForwardingCallback = nil
	srv.ReversePortForwardingCallback = nil
	return nil
}

// sessionChannel is the library's session handler over a channel whose
// agent forwarding requests are refused.
func (s *Server) sessionChannel(srv *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	ssh.DefaultSessionHandler(srv, conn, noAgentChannel{NewChannel: nc, log: s.log.With("remote", conn.RemoteAddr().String(), "user", ctx.Permissions().Extensions[extUser])}, ctx)
}

// noAgentChannel is a session channel that refuses agent forwarding.
type noAgentChannel struct {
	gossh.NewChannel
	log *slog.Logger
}

// Accept accepts the channel and filters its requests.
func (c noAgentChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := c.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	out := make(chan *gossh.Request)
	go func() {
		defer close(out)
		for req := range reqs {
			if req.Type == agentForwardingRequest {
				c.log.Info("agent forwarding refused")
				_ = req.Reply(false, nil)
				continue
			}
			out <- req
		}
	}()
	return ch, out, nil
}
