// Package fluxobj owns what gitopstui knows of the Flux objects it manages:
// their kinds, the labels that tie them to catalog records, how their
// status reads (Flux's conditions judged into ready, reconciling, pending,
// failed or suspended), their diagnosis (one class with its facts, a
// sentence and the next action: diagnose.go) and the gitopstui.io/suspend-*
// annotations that say why, by whom and until when one is suspended.
package fluxobj
