package main

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/archway-gateway/archway/internal/server"
)

// levelValue is a log level flag: debug, info, warn or error, as
// slog.Level parses it (so "info+2" works too).
type levelValue struct{ level slog.Level }

func (v *levelValue) String() string { return strings.ToLower(v.level.String()) }

func (v *levelValue) Set(s string) error { return v.level.UnmarshalText([]byte(s)) }

func (*levelValue) Type() string { return "level" }

// formatValue is the log format flag.
type formatValue struct{ format string }

// Log formats: text for people, json for log collectors.
const (
	logText = "text"
	logJSON = "json"
)

func (v *formatValue) String() string { return v.format }

func (v *formatValue) Set(s string) error {
	if s != logText && s != logJSON {
		return fmt.Errorf("%q is not %q or %q", s, logText, logJSON)
	}
	v.format = s
	return nil
}

func (*formatValue) Type() string { return "format" }

// componentsValue is the --components flag: a comma list of component
// names, checked as it is set so that a typo names its source.
type componentsValue struct{ names []string }

func (v *componentsValue) String() string { return strings.Join(v.names, ",") }

func (v *componentsValue) Set(s string) error { return v.Replace(strings.Split(s, ",")) }

func (*componentsValue) Type() string { return "list" }

// Append adds one component, as a config file list item does.
func (v *componentsValue) Append(s string) error { return v.Replace(append(slices.Clone(v.names), s)) }

// Replace sets the whole list; a repeated name counts once.
func (v *componentsValue) Replace(items []string) error {
	var names []string
	for _, item := range items {
		name := strings.TrimSpace(item)
		if !slices.Contains(server.Components(), name) {
			return fmt.Errorf("unknown component %q (want some of %s)", name, strings.Join(server.Components(), ","))
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("no component (want some of %s)", strings.Join(server.Components(), ","))
	}
	v.names = names
	return nil
}

// GetSlice returns the component names.
func (v *componentsValue) GetSlice() []string { return slices.Clone(v.names) }

// envoyModeValue is --envoy: whether serve runs an Envoy itself.
type envoyModeValue struct{ mode string }

func (v *envoyModeValue) String() string { return v.mode }

func (v *envoyModeValue) Set(s string) error {
	if s != server.EnvoyAuto && s != server.EnvoyOff {
		return fmt.Errorf("%q is not %s or %s", s, server.EnvoyAuto, server.EnvoyOff)
	}
	v.mode = s
	return nil
}

func (*envoyModeValue) Type() string { return "mode" }
