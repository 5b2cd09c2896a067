package kube

import (
	"context"
	"errors"
	"net"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/gitopstui/gitopstui/model"
)

// Error maps an API error to the platform's codes: permission denials are
// INSUFFICIENT_PERMISSIONS, connection failures K3S_NOT_READY.
func Error(err error, what string) error {
	if err == nil {
		return nil
	}
	var me *model.Error
	if errors.As(err, &me) {
		return err
	}
	switch {
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		return model.Wrap(model.CodeInsufficientPermission, err, what)
	case apierrors.IsNotFound(err):
		return model.Wrap(model.CodeNotFound, err, what)
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		e := model.Wrap(model.CodeBadRequest, err, what)
		if se, ok := err.(apierrors.APIStatus); ok && se.Status().Details != nil {
			fields := map[string]any{}
			for _, c := range se.Status().Details.Causes {
				fields[c.Field] = c.Message
			}
			if len(fields) > 0 {
				e.WithDetail("fields", fields)
			}
		}
		return e
	case apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err):
		return model.Wrap(model.CodeConflictDetected, err, what)
	case IsConnError(err):
		return model.Wrap(model.CodeK3sNotReady, err, what+": API server unreachable")
	}
	return model.Wrap(model.CodeInternal, err, what)
}

// IsConnError says whether err is a failure to reach the API server.
func IsConnError(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") ||
		strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "EOF") || apierrors.IsTimeout(err) ||
		apierrors.IsServerTimeout(err) || apierrors.IsServiceUnavailable(err)
}
