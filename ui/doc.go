// Package ui owns gitopstui's Bubble Tea v2 terminal interface: the root
// model with its screen stack, the screens, key maps and styles. Every
// session (local or SSH) builds its own model, styles and keys; I/O runs in
// tea.Cmds that call the services Registry and come back as typed messages.
package ui
