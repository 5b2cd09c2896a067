package ui

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Styles are one session's styles, built for its background.
type Styles struct {
	Title    lipgloss.Style
	Header   lipgloss.Style
	Selected lipgloss.Style
	Muted    lipgloss.Style
	Error    lipgloss.Style
	Status   lipgloss.Style
	Box      lipgloss.Style
	Accent   color.Color
}

// NewStyles builds styles for a dark or light background.
func NewStyles(dark bool) Styles {
	ld := lipgloss.LightDark(dark)
	accent := ld(lipgloss.Color("#005FAF"), lipgloss.Color("#5FAFFF"))
	muted := ld(lipgloss.Color("#6C6C6C"), lipgloss.Color("#8A8A8A"))
	return Styles{
		Title:    lipgloss.NewStyle().Bold(true).Foreground(accent),
		Header:   lipgloss.NewStyle().Bold(true).Underline(true),
		Selected: lipgloss.NewStyle().Reverse(true),
		Muted:    lipgloss.NewStyle().Foreground(muted),
		Error:    lipgloss.NewStyle().Foreground(ld(lipgloss.Color("#AF0000"), lipgloss.Color("#FF5F5F"))).Bold(true),
		Status:   lipgloss.NewStyle().Foreground(muted),
		Box:      lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(muted).Padding(0, 1),
		Accent:   accent,
	}
}
