package deploy

import (
	"context"
	"path"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/manifest"
	"github.com/gitopstui/gitopstui/services/validate"
)

// checkChangedYAML re-validates the files a commit writes: an error the new
// content has and the old one did not is YAML_INVALID (details.errors). A
// created file is a strategic-merge patch, partial by design, so missing
// required fields are not counted there; strategic-merge-patch directives
// ($patch: delete) are kustomize's, not unknown fields.
func (s *Deploy) checkChangedYAML(ctx context.Context, head gitx.Snapshot, files map[string][]byte) error {
	v, err := s.yamlValidator()
	if err != nil {
		return err
	}
	var errs []any
	for p, b := range files {
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			continue
		}
		before := map[string]bool{}
		old, readErr := head.ReadFile(p)
		if readErr == nil {
			for _, e := range v.ValidateFile(ctx, p, old).Errors {
				before[e.Field+"\x00"+e.Message] = true
			}
		}
		for _, e := range v.ValidateFile(ctx, p, b).Errors {
			if before[e.Field+"\x00"+e.Message] || (readErr != nil && strings.HasSuffix(e.Message, "Required value")) || manifest.PatchDirective(e.Field) {
				continue
			}
			errs = append(errs, map[string]any{"file": p, "line": e.Line, "column": e.Column, "field": e.Field, "message": e.Message})
		}
	}
	if len(errs) > 0 {
		return model.Errorf(model.CodeYAMLInvalid, "the change would commit invalid YAML (%d error(s))", len(errs)).WithDetail("errors", errs)
	}
	return nil
}

// yamlValidator returns the validator, built once with the embedded Flux CRDs.
func (s *Deploy) yamlValidator() (*validate.Validator, error) {
	s.valOnce.Do(func() {
		b, err := fluxbundle.Load("")
		if err != nil {
			s.valErr = err
			return
		}
		crds, err := b.CRDs(fluxbundle.Options{})
		if err != nil {
			s.valErr = err
			return
		}
		raw, err := fluxbundle.Marshal(crds)
		if err != nil {
			s.valErr = err
			return
		}
		s.val, s.valErr = validate.New(validate.Options{}, raw)
	})
	return s.val, s.valErr
}

// validateFile validates a file that is about to be committed, by its name:
// a kustomization.yaml may leave out apiVersion and kind, as kustomize allows.
func (s *Deploy) validateFile(ctx context.Context, file string, data []byte) (validate.Result, error) {
	v, err := s.yamlValidator()
	if err != nil {
		return validate.Result{}, err
	}
	return v.ValidateFile(ctx, file, data), nil
}

// validateYAML implements gitops.validateYAML; with a file name, the YAML
// is checked as that file's content (as a commit of it would be).
func (s *Deploy) validateYAML(ctx context.Context, in api.ValidateYAMLInput) (api.ValidateResult, error) {
	v, err := s.yamlValidator()
	if err != nil {
		return api.ValidateResult{}, err
	}
	return validateResult(v.ValidateFile(ctx, in.File, []byte(in.YAML))), nil
}

// validateResult is the validator's verdict in the contract's shape.
func validateResult(r validate.Result) api.ValidateResult {
	out := api.ValidateResult{Valid: r.Valid, Documents: r.Documents, Errors: make([]api.YAMLError, len(r.Errors)),
		Warnings: make([]api.YAMLWarning, len(r.Warnings))}
	for i, e := range r.Errors {
		out.Errors[i] = api.YAMLError{Line: e.Line, Column: e.Column, Message: e.Message, Document: e.Document,
			Field: e.Field, Kind: e.Kind, Name: e.Name}
	}
	for i, w := range r.Warnings {
		out.Warnings[i] = api.YAMLWarning{Message: w.Message, Suggestion: w.Suggestion, Line: w.Line, Column: w.Column,
			Document: w.Document, Field: w.Field, Kind: w.Kind, Name: w.Name}
	}
	return out
}
