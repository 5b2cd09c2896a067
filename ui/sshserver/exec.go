package sshserver

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"charm.land/ssh"
	shlex "github.com/anmitsu/go-shlex"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// Exit statuses of exec commands: the headless contract's.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const execUsage = `Commands:
  procedure NAME ['<json>' | -]   run one procedure: JSON result on stdout (exit 0),
                                  error JSON on stderr (exit 1); - reads the JSON from stdin
  procedures [--json]             list procedures, the role each needs, and their input fields
  whoami                          print the identity and role of the key you authenticated with
  help                            this text
Without a command (and with a terminal) you get the UI.
`

// exec runs one exec request and returns its exit status.
func (s *Server) exec(sess ssh.Session, id Identity) int {
	verb, rest := cutWord(strings.TrimSpace(sess.RawCommand()))
	switch verb {
	case "procedure":
		name, arg := cutWord(rest)
		if name == "" {
			fmt.Fprint(sess.Stderr(), "gitopstui: procedure needs a NAME\n"+execUsage)
			return exitUsage
		}
		raw, err := execInput(arg, sess)
		if err != nil {
			fmt.Fprintf(sess.Stderr(), "gitopstui: %v\n", err)
			return exitUsage
		}
		ctx := model.WithActor(sess.Context(), id.Actor())
		res, err := trackedCaller{s: s}.Call(ctx, name, raw)
		if err != nil {
			return writeErrorJSON(sess.Stderr(), err)
		}
		if err := writeJSON(sess, res); err != nil {
			return writeErrorJSON(sess.Stderr(), err)
		}
		return exitOK
	case "procedures":
		switch rest {
		case "--json":
			if err := writeJSON(sess, s.reg.Procedures()); err != nil {
				return writeErrorJSON(sess.Stderr(), err)
			}
		case "":
			api.WriteProcedures(sess, s.reg.Procedures())
		default:
			fmt.Fprintf(sess.Stderr(), "gitopstui: procedures takes only --json, not %q\n", rest)
			return exitUsage
		}
		return exitOK
	case "whoami":
		if err := writeJSON(sess, id); err != nil {
			return writeErrorJSON(sess.Stderr(), err)
		}
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(sess, execUsage)
		return exitOK
	}
	fmt.Fprintf(sess.Stderr(), "gitopstui: unknown command %q\n%s", verb, execUsage)
	return exitUsage
}

// execInput resolves a procedure's input argument: nothing is {}, - reads
// stdin, and JSON is taken as the remote command line carries it (the
// client's shell already removed one level of quotes); a single quoted word
// is unquoted once more. Anything else goes to the registry, which reports
// it as BAD_REQUEST like headless mode does.
func execInput(arg string, stdin io.Reader) ([]byte, error) {
	arg = strings.TrimSpace(arg)
	if words, err := shlex.Split(arg, true); err == nil && len(words) == 1 && !json.Valid([]byte(arg)) {
		if w := words[0]; w == "-" || json.Valid([]byte(w)) {
			arg = w
		}
	}
	switch {
	case arg == "":
		return []byte("{}"), nil
	case arg == "-":
		b, err := io.ReadAll(io.LimitReader(stdin, api.MaxInputBytes+1))
		if err != nil {
			return nil, fmt.Errorf("read input from stdin: %w", err)
		}
		return b, nil
	case strings.HasPrefix(arg, "@"):
		return nil, fmt.Errorf("the server cannot read your files; send the file on stdin: ssh HOST procedure NAME - < %s", arg[1:])
	}
	return []byte(arg), nil
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

// writeJSON prints v as indented JSON, as headless mode does.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return model.Wrap(model.CodeInternal, err, "encode result")
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeErrorJSON prints {code, message, details} and returns exit 1.
func writeErrorJSON(w io.Writer, err error) int {
	b, _ := json.MarshalIndent(model.AsError(err), "", "  ")
	fmt.Fprintf(w, "%s\n", b)
	return exitError
}
