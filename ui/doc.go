// Package ui owns gitopstui's Bubble Tea v2 terminal interface: the root
// model with its screen stack, the screens, key maps and styles. Every
// session (local or SSH) builds its own model, styles and keys; I/O runs in
// tea.Cmds that call procedures through the typed contract (services/api)
// and come back as typed messages.
//
// Screens share three pieces: one list component (list.go: columns dropped
// by priority when narrow, `/` filter, sort, loading, empty and error
// states), one loader that settles every load's result (loader.go: the
// newest request wins, a failure becomes the error line), and forms
// generated from the contract's field declarations (formgen.go) with
// per-screen overrides. Screens follow the store (follow.go): the change
// note the registry publishes after every successful mutation reloads, once
// per burst, each open screen that shows a kind it names. Views are pure: layout, scrolling and highlighting
// are computed in Update.
package ui
