package services

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteProcedures prints procedures and their input fields as text, required
// fields first, for `gitopstui procedures` and the SSH `procedures` command.
func WriteProcedures(w io.Writer, procs []*Procedure) {
	for _, p := range procs {
		fmt.Fprintf(w, "%-36s %-8s %s\n", p.Name, p.Role, p.Description)
		writeFields(w, p.Fields, "    ")
	}
}

func writeFields(w io.Writer, fields []Field, indent string) {
	fields = append([]Field(nil), fields...)
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Required && !fields[j].Required })
	for _, f := range fields {
		req := ""
		if f.Required {
			req = " (required)"
		}
		enum := ""
		if len(f.Enum) > 0 {
			enum = " [" + strings.Join(f.Enum, "|") + "]"
		}
		fmt.Fprintf(w, "%s%s: %s%s%s  %s\n", indent, f.Name, f.Type, req, enum, f.Doc)
		writeFields(w, f.Fields, indent+"  ")
	}
}
