// Package ui owns gitopstui's Bubble Tea v2 terminal interface: the root
// model with its screen stack, the screens, key maps and styles. Every
// session (local or SSH) builds its own model, styles and keys; I/O runs in
// tea.Cmds that call procedures through the typed contract (services/api)
// and come back as typed messages.
//
// Screens share a few pieces: one list component (list.go: columns as wide
// as their content, squeezed and dropped by priority when narrow, `/`
// filter, sort, loading, empty and error states), one loader that settles
// every load's result (loader.go: the newest request wins, a failure
// becomes the error line), forms generated from the contract's field
// declarations (formgen.go) with per-screen overrides, pickers that offer
// records by name where a form needs an id (picker.go), and the typed-name
// confirmation of every delete (confirm.go). The chrome (chrome.go) keeps
// the keys k9s users expect: number keys and `:name` switch the top-level
// view, the footer always shows `:` and `?`, an error line opens in full
// with enter (errors.go), and messages speak words, not procedure names.
// Screens follow the store (follow.go): the change note the registry
// publishes after every successful mutation reloads, once per burst, each
// open screen that shows a kind it names. A deploy is previewed (deploy.go), checked against what would apply it
// (target.go) and followed through Flux's stages until it ends or times
// out (progress.go). Views are pure: layout, scrolling and highlighting
// are computed in Update.
package ui
