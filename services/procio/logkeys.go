package procio

// Log attribute keys of the front ends (DESIGN §6.13, after k9s's slogs):
// one spelling per key, so that a log can be searched by key. The forwarding
// server and cmd/gitopstui log with these.
const (
	// LogKeyErr is an error.
	LogKeyErr = "err"
	// LogKeyProcedure is a procedure's name.
	LogKeyProcedure = "procedure"
	// LogKeyUser is the user a call runs as.
	LogKeyUser = "user"
	// LogKeyUID is a peer's numeric user id.
	LogKeyUID = "uid"
	// LogKeyCode is an error code (empty for success).
	LogKeyCode = "code"
	// LogKeyMode is what a process is: tui, cli, serve.
	LogKeyMode = "mode"
	// LogKeyPID is a process id.
	LogKeyPID = "pid"
	// LogKeyDataDir is a data directory.
	LogKeyDataDir = "dataDir"
	// LogKeyPath is a file's path.
	LogKeyPath = "path"
	// LogKeyVersion is gitopstui's version.
	LogKeyVersion = "version"
	// LogKeyComponent names the library a record comes from (client-go's
	// klog, for example).
	LogKeyComponent = "component"
)
