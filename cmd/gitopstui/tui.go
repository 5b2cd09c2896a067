package main

import (
	"context"
	"fmt"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/procio"
	"github.com/gitopstui/gitopstui/ui"
)

func runTUI(ctx context.Context, o options, stderr io.Writer) int {
	svc, closeFn, err := openServices(o)
	if err != nil {
		return procio.WriteError(stderr, err)
	}
	defer closeFn()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Live status: informers per cluster feed the subscription of the UI.
	if err := svc.StartWatchers(ctx); err != nil {
		return procio.WriteError(stderr, err)
	}
	actor := model.LocalActor("tui")
	ctx = model.WithActor(ctx, actor)
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	m := ui.New(ui.Options{
		Caller: svc.Registry(), Actor: actor, Dark: true, Ctx: ctx,
		Subscribe: svc.Subscribe, Editor: editor,
	})
	if _, err := tea.NewProgram(m, tea.WithContext(ctx)).Run(); err != nil {
		fmt.Fprintln(stderr, "gitopstui:", err)
		return procio.ExitError
	}
	return procio.ExitOK
}
