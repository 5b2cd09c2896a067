package main

import (
	"context"
	"fmt"
	"io"

	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/ui"
)

func runTUI(ctx context.Context, o options, stderr io.Writer) int {
	svc, closeFn, err := openServices(o)
	if err != nil {
		return writeError(stderr, err)
	}
	defer closeFn()
	actor := services.LocalActor("tui")
	ctx = services.WithActor(ctx, actor)
	m := ui.New(ui.Options{Caller: svc.Registry(), Actor: actor, Dark: true, Ctx: ctx})
	if _, err := tea.NewProgram(m, tea.WithContext(ctx)).Run(); err != nil {
		fmt.Fprintln(stderr, "gitopstui:", err)
		return exitError
	}
	return exitOK
}
