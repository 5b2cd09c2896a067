package sshserver

import (
	"encoding/json"
	"fmt"
	"strings"

	"charm.land/ssh"
	shlex "github.com/anmitsu/go-shlex"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/procio"
)

const execUsage = `Commands:
  procedure [--output json|yaml] NAME ['<json>' | -]
                                  run one procedure: the result on stdout as JSON, or YAML
                                  with --output yaml (exit 0), error JSON on stderr (exit 1);
                                  - reads the JSON input from stdin
  procedures [--json]             list procedures, the role each needs, and their input fields
  whoami                          print the identity and role of the key you authenticated with
  help                            this text
Without a command (and with a terminal) you get the UI.
`

// exec runs one exec request and returns its exit status.
func (s *Server) exec(sess ssh.Session, id Identity, o *openSession) int {
	verb, rest := cutWord(strings.TrimSpace(sess.RawCommand()))
	switch verb {
	case "procedure":
		return s.execProcedure(sess, o, rest)
	case "procedures":
		switch rest {
		case "--json":
			if err := procio.WriteResult(sess, procio.JSON, s.reg.Procedures()); err != nil {
				return procio.WriteError(sess.Stderr(), err)
			}
		case "":
			api.WriteProcedures(sess, s.reg.Procedures())
		default:
			fmt.Fprintf(sess.Stderr(), "gitopstui: procedures takes only --json, not %q\n", rest)
			return procio.ExitUsage
		}
		return procio.ExitOK
	case "whoami":
		if err := procio.WriteResult(sess, procio.JSON, id); err != nil {
			return procio.WriteError(sess.Stderr(), err)
		}
		return procio.ExitOK
	case "help", "-h", "--help":
		fmt.Fprint(sess, execUsage)
		return procio.ExitOK
	}
	fmt.Fprintf(sess.Stderr(), "gitopstui: unknown command %q\n%s", verb, execUsage)
	return procio.ExitUsage
}

// execProcedure runs `procedure [--output json|yaml] NAME [INPUT]` as the
// session key's identity at the time of the call.
func (s *Server) execProcedure(sess ssh.Session, o *openSession, args string) int {
	cmd, err := parseProcedureCommand(args)
	if err != nil {
		fmt.Fprintf(sess.Stderr(), "gitopstui: %v\n%s", err, execUsage)
		return procio.ExitUsage
	}
	raw, err := procio.ReadInput(unquoteInput(cmd.input), sess, false)
	if err != nil {
		fmt.Fprintf(sess.Stderr(), "gitopstui: %v\n", err)
		return procio.ExitUsage
	}
	return procio.Run(sess.Context(), trackedCaller{s: s, o: o}, cmd.name, raw, cmd.format, sess, sess.Stderr())
}

// procedureCommand is a parsed `procedure` exec command.
type procedureCommand struct {
	format procio.Format
	name   string
	input  string
}

// parseProcedureCommand reads `[--output json|yaml] NAME [INPUT]` (also
// --output=FORMAT). Flags come before NAME: everything after NAME is the
// input, which may contain spaces.
func parseProcedureCommand(args string) (procedureCommand, error) {
	cmd := procedureCommand{format: procio.JSON}
	word, rest := cutWord(args)
	for strings.HasPrefix(word, "--") {
		var value string
		switch {
		case word == "--output":
			value, rest = cutWord(rest)
		case strings.HasPrefix(word, "--output="):
			value = strings.TrimPrefix(word, "--output=")
		default:
			return cmd, fmt.Errorf("procedure: unknown flag %q (only --output json|yaml, before NAME)", word)
		}
		f, err := procio.ParseFormat(value)
		if err != nil {
			return cmd, err
		}
		cmd.format = f
		word, rest = cutWord(rest)
	}
	if word == "" {
		return cmd, fmt.Errorf("procedure needs a NAME")
	}
	cmd.name, cmd.input = word, rest
	return cmd, nil
}

// unquoteInput takes the input argument as the remote command line carries
// it (the client's shell already removed one level of quotes); a single
// quoted word is unquoted once more when that makes it - or valid JSON.
// Anything else goes to the registry as it is, which reports it as
// BAD_REQUEST like headless mode does.
func unquoteInput(arg string) string {
	arg = strings.TrimSpace(arg)
	if words, err := shlex.Split(arg, true); err == nil && len(words) == 1 && !json.Valid([]byte(arg)) {
		if w := words[0]; w == "-" || json.Valid([]byte(w)) {
			return w
		}
	}
	return arg
}

// cutWord splits s at its first run of spaces.
func cutWord(s string) (string, string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i+1:])
}
