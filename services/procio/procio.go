package procio

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// Exit codes of the headless contract, the same for `gitopstui --procedure`
// and SSH exec.
const (
	// ExitOK: the procedure succeeded; its result is on stdout.
	ExitOK = 0
	// ExitError: the procedure failed; {code, message, details} is on stderr.
	ExitError = 1
	// ExitUsage: the command line was wrong; a plain message is on stderr.
	ExitUsage = 2
)

// Format is how a result is written: JSON or YAML.
type Format string

// The result formats.
const (
	JSON Format = "json"
	YAML Format = "yaml"
)

// ParseFormat reads an --output value. Anything but json or yaml is an
// error naming the flag, for the caller to report as a usage error.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case JSON, YAML:
		return f, nil
	}
	return "", fmt.Errorf("--output must be json or yaml, not %q", s)
}

// ReadInput resolves a procedure's input argument: nothing is {}, - reads
// stdin, @path reads the file when files is true, anything else is the
// input itself. Reads stop one byte past api.MaxInputBytes, so that an
// endless stream (or @/dev/zero) costs bounded memory and the registry
// reports the input as over the limit (BAD_REQUEST). A remote front end
// passes files=false: the server must not read its own files on a client's
// behalf, and @path is refused with a hint to send the file on stdin.
func ReadInput(arg string, stdin io.Reader, files bool) ([]byte, error) {
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
		if !files {
			return nil, fmt.Errorf("the server cannot read your files; send the file on stdin: ssh HOST procedure NAME - < %s", arg[1:])
		}
		b, err := readFileLimited(arg[1:], api.MaxInputBytes+1)
		if err != nil {
			return nil, fmt.Errorf("read input file: %w", err)
		}
		return b, nil
	}
	return []byte(arg), nil
}

func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// WriteResult writes v in format f: indented JSON with a trailing newline,
// or that JSON converted to YAML (keys in the JSON's field names).
func WriteResult(w io.Writer, f Format, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return model.Wrap(model.CodeInternal, err, "encode result")
	}
	switch f {
	case JSON:
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case YAML:
		if b, err = yaml.JSONToYAML(b); err != nil {
			return model.Wrap(model.CodeInternal, err, "encode result as YAML")
		}
		_, err = w.Write(b)
		return err
	}
	return model.Errorf(model.CodeInternal, "unknown result format %q", string(f))
}

// WriteError writes err as indented {code, message, details} JSON (an
// error without a code is INTERNAL) and returns ExitError. Errors are JSON
// whatever the result format, so that scripts parse one shape.
func WriteError(w io.Writer, err error) int {
	b, _ := json.MarshalIndent(model.AsError(err), "", "  ")
	fmt.Fprintf(w, "%s\n", b)
	return ExitError
}

// Run calls procedure name with input raw through caller (the actor is
// whatever ctx carries), writes the result to stdout in format f or the
// error to stderr, and returns the exit code.
func Run(ctx context.Context, caller api.Caller, name string, raw []byte, f Format, stdout, stderr io.Writer) int {
	res, err := caller.Call(ctx, name, raw)
	if err != nil {
		return WriteError(stderr, err)
	}
	if err := WriteResult(stdout, f, res); err != nil {
		return WriteError(stderr, err)
	}
	return ExitOK
}
