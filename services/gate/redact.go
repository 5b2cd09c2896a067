package gate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"reflect"
	"regexp"
	"time"

	"github.com/gitopstui/gitopstui/services/api"
)

// maxAuditInput bounds the redacted input an audit entry keeps; a bigger one
// is kept as its digest and size only.
const maxAuditInput = 16 << 10

// Digest is what the audit keeps of a value it must not keep: enough to tell
// two inputs apart and see how big they were, nothing to read them back.
type Digest struct {
	SHA256 string `json:"sha256"`
	Bytes  int    `json:"bytes"`
}

func digestOf(b []byte) Digest {
	sum := sha256.Sum256(b)
	return Digest{SHA256: hex.EncodeToString(sum[:]), Bytes: len(b)}
}

// auditInput is the input an audit entry keeps: the decoded input with the
// contract's audit:"digest" fields (YAML, env values, Helm values) replaced
// by their digest and the user-info of every URL removed; the digest of the
// raw bytes when the input did not decode (nothing of it is trusted then)
// or the redacted form is too big.
func auditInput(in any, decoded bool, raw []byte) json.RawMessage {
	if decoded {
		b, err := json.Marshal(redact(reflect.ValueOf(in)))
		if err == nil && len(b) <= maxAuditInput {
			return b
		}
	}
	if len(raw) == 0 {
		return nil
	}
	b, _ := json.Marshal(map[string]Digest{"undecoded": digestOf(raw)})
	return b
}

// redact returns v as a JSON-ready value with secrets removed.
func redact(v reflect.Value) any {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == reflect.TypeOf(json.RawMessage{}), v.Type() == reflect.TypeOf(time.Time{}):
		return v.Interface()
	}
	switch v.Kind() {
	case reflect.String:
		return StripURLCredentials(v.String())
	case reflect.Struct:
		return redactStruct(v)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = redact(v.Index(i))
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		for it := v.MapRange(); it.Next(); {
			out[StripURLCredentials(it.Key().String())] = redact(it.Value())
		}
		return out
	}
	return v.Interface()
}

func redactStruct(v reflect.Value) map[string]any {
	out := map[string]any{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fv := v.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			for k, x := range redactStruct(fv) {
				out[k] = x
			}
			continue
		}
		name, ok := api.JSONName(f)
		if !ok || fv.IsZero() {
			continue
		}
		if f.Tag.Get("audit") == "digest" {
			out[name] = digestValue(fv)
			continue
		}
		out[name] = redact(fv)
	}
	return out
}

// digestValue replaces a sensitive value by its digest; a map keeps its keys
// (which variable changed is worth knowing) with each value digested.
func digestValue(v reflect.Value) any {
	if v.Kind() == reflect.Map {
		out := map[string]any{}
		for it := v.MapRange(); it.Next(); {
			b, _ := json.Marshal(it.Value().Interface())
			out[it.Key().String()] = digestOf(b)
		}
		return out
	}
	if v.Kind() == reflect.String {
		return digestOf([]byte(v.String()))
	}
	b, _ := json.Marshal(v.Interface())
	return digestOf(b)
}

// urlWithUserinfo finds scheme://user[:password]@ in free text.
var urlWithUserinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@"']+@`)

// StripURLCredentials removes the user-info (user and password) of every URL
// in s: https://u:TOKEN@host/x.git becomes https://host/x.git.
func StripURLCredentials(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil && u.Host != "" {
		u.User = nil
		return u.String()
	}
	return urlWithUserinfo.ReplaceAllString(s, "$1")
}
