// Package fluxobj owns what gitopstui knows of the Flux objects it manages:
// their kinds, the labels that tie them to catalog records, and how their
// status reads (Flux's conditions judged into ready, reconciling, pending,
// failed or suspended).
package fluxobj
