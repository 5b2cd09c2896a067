package ui

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Styles are one session's styles, built for its background. Colors are
// always set; the renderer downsamples them to the terminal's profile, which
// drops them entirely when NO_COLOR is set.
type Styles struct {
	Title    lipgloss.Style
	Crumb    lipgloss.Style
	Header   lipgloss.Style
	Selected lipgloss.Style
	Muted    lipgloss.Style
	Error    lipgloss.Style
	Warn     lipgloss.Style
	OK       lipgloss.Style
	Info     lipgloss.Style
	Status   lipgloss.Style
	Box      lipgloss.Style
	Dialog   lipgloss.Style
	Label    lipgloss.Style
	Focused  lipgloss.Style
	Accent   color.Color
	// Badges by deployment method.
	Badge map[string]lipgloss.Style
}

// NewStyles builds styles for a dark or light background.
func NewStyles(dark bool) Styles {
	ld := lipgloss.LightDark(dark)
	accent := ld(lipgloss.Color("#005FAF"), lipgloss.Color("#5FAFFF"))
	muted := ld(lipgloss.Color("#6C6C6C"), lipgloss.Color("#8A8A8A"))
	red := ld(lipgloss.Color("#AF0000"), lipgloss.Color("#FF5F5F"))
	green := ld(lipgloss.Color("#007A00"), lipgloss.Color("#5FD75F"))
	yellow := ld(lipgloss.Color("#875F00"), lipgloss.Color("#FFD75F"))
	blue := ld(lipgloss.Color("#0050A0"), lipgloss.Color("#87AFFF"))
	badge := func(c color.Color) lipgloss.Style {
		return lipgloss.NewStyle().Foreground(c).Bold(true)
	}
	return Styles{
		Title:    lipgloss.NewStyle().Bold(true).Foreground(accent),
		Crumb:    lipgloss.NewStyle().Foreground(accent),
		Header:   lipgloss.NewStyle().Bold(true),
		Selected: lipgloss.NewStyle().Reverse(true),
		Muted:    lipgloss.NewStyle().Foreground(muted),
		Error:    lipgloss.NewStyle().Foreground(red).Bold(true),
		Warn:     lipgloss.NewStyle().Foreground(yellow),
		OK:       lipgloss.NewStyle().Foreground(green),
		Info:     lipgloss.NewStyle().Foreground(blue),
		Status:   lipgloss.NewStyle().Foreground(muted),
		Box:      lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(muted).Padding(0, 1),
		Dialog:   lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1),
		Label:    lipgloss.NewStyle().Foreground(muted),
		Focused:  lipgloss.NewStyle().Foreground(accent).Bold(true),
		Accent:   accent,
		Badge: map[string]lipgloss.Style{
			"manual":     badge(muted),
			"gitops-ui":  badge(blue),
			"gitops-git": badge(green),
			"pipeline":   badge(yellow),
		},
	}
}

// statusStyle colors a resource, deployment or health status.
func (s Styles) statusStyle(status string) lipgloss.Style {
	switch status {
	case "ready", "success", "healthy", "reachable", "Ready", "True":
		return s.OK
	case "failed", "unhealthy", "unreachable", "False":
		return s.Error
	case "reconciling", "pending", "degraded", "progressing", "checking…":
		return s.Warn
	case "suspended":
		return s.Info
	}
	return s.Muted
}
