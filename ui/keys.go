package ui

import "charm.land/bubbles/v2/key"

// KeyMap is one session's key bindings, with their help text. Screens pick
// the bindings they use and report them for the footer and `?` help.
type KeyMap struct {
	// Global.
	Quit, Help, Palette, Back, Refresh         key.Binding
	Clusters, Projects, Resources, Deployments key.Binding
	Fleet                                      key.Binding
	// Lists.
	Up, Down, PageUp, PageDown, Top, Bottom, Open, Filter, Sort key.Binding
	// Resources (k9s habits).
	Sync, Suspend, Detail, YAML, Edit, Delete, Create key.Binding
	// Resources: mark rows for a bulk action, triage, the dependency graph.
	Mark, Triage, Graph key.Binding
	// Clusters.
	Install, Uninstall, Health key.Binding
	// Environments.
	GitOps, Deploy, ConfigEditor, History, Repos, Promote key.Binding
	// Deployments and previews.
	Rollback, Review key.Binding
	// Forms and dialogs.
	Next, Prev, Toggle, Submit, Confirm, Cancel, More key.Binding
}

// NewKeyMap returns the default bindings.
func NewKeyMap() KeyMap {
	b := func(help string, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return KeyMap{
		Quit:        b("q", "quit", "q", "ctrl+c"),
		Help:        b("?", "help", "?"),
		Palette:     b(":", "command", ":"),
		Back:        b("esc", "back", "esc"),
		Refresh:     b("ctrl+r", "refresh", "ctrl+r"),
		Clusters:    b("1", "clusters", "1"),
		Projects:    b("2", "projects", "2"),
		Resources:   b("3", "resources", "3"),
		Deployments: b("4", "deployments", "4"),
		Fleet:       b("5", "fleet", "5"),

		Up:       b("↑/k", "up", "up", "k"),
		Down:     b("↓/j", "down", "down", "j"),
		PageUp:   b("pgup/ctrl+b", "page up", "pgup", "ctrl+b"),
		PageDown: b("pgdn/ctrl+f", "page down", "pgdown", "ctrl+f"),
		Top:      b("g/home", "top", "g", "home"),
		Bottom:   b("G/end", "bottom", "G", "end"),
		Open:     b("enter", "open", "enter"),
		Filter:   b("/", "filter", "/"),
		Sort:     b("s", "sort", "s"),

		Sync:    b("R", "sync", "R"),
		Suspend: b("T", "suspend/resume", "T"),
		Detail:  b("d", "detail", "d"),
		YAML:    b("y", "yaml", "y"),
		Edit:    b("e", "edit", "e"),
		Delete:  b("ctrl+d", "delete", "ctrl+d"),
		Create:  b("c", "create", "c"),
		Mark:    b("space", "mark (bulk T/R)", "space"),
		Triage:  b("t", "triage", "t"),
		Graph:   b("v", "dependencies", "v"),

		Install:   b("i", "install flux", "i"),
		Uninstall: b("u", "uninstall flux", "u"),
		Health:    b("h", "health", "h"),

		GitOps:       b("o", "gitops config", "o"),
		Deploy:       b("D", "deploy", "D"),
		ConfigEditor: b("E", "edit manifest", "E"),
		History:      b("H", "history", "H"),
		Repos:        b("r", "repositories", "r"),
		Promote:      b("P", "promote", "P"),

		Rollback: b("r", "roll back", "r"),
		Review:   b("b", "review branch", "b"),

		Next:    b("tab", "next field", "tab", "down"),
		Prev:    b("shift+tab", "prev field", "shift+tab", "up"),
		Toggle:  b("space", "toggle", "space"),
		Submit:  b("ctrl+s", "submit", "ctrl+s"),
		Confirm: b("enter", "confirm", "enter"),
		Cancel:  b("esc", "cancel", "esc"),
		More:    b("n", "next page", "n"),
	}
}

// globalHelp lists the bindings every screen shares.
func (k KeyMap) globalHelp() []key.Binding {
	return []key.Binding{k.Palette, k.Help, k.Back, k.Quit}
}

// jumpHelp lists the bindings that jump to a top-level screen.
func (k KeyMap) jumpHelp() []key.Binding {
	return []key.Binding{k.Clusters, k.Projects, k.Resources, k.Deployments, k.Fleet, k.Refresh}
}
