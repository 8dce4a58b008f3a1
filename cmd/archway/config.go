package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// envPrefix starts the environment variable of every serve flag:
// --data-dir is ARCHWAY_DATA_DIR.
const envPrefix = "ARCHWAY_"

// Flags that are not settings and so have no environment variable or
// config file key.
const (
	flagConfig = "config"
	flagHelp   = "help"
)

// envName returns the environment variable of a flag.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// resolve completes the flags in fs that were not given on the command
// line: from their environment variable if it is set and not empty,
// otherwise from the --config file (itself a flag or ARCHWAY_CONFIG),
// otherwise they keep their default. Every bad value and every unknown
// config file key is an error naming where it came from.
func resolve(fs *pflag.FlagSet, env func(string) string) error {
	cfgFlag := fs.Lookup(flagConfig)
	if err := setFromEnv(fs, cfgFlag, env); err != nil {
		return err
	}
	file, err := readConfigFile(cfgFlag.Value.String())
	if err != nil {
		return err
	}
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == flagConfig || f.Name == flagHelp {
			return
		}
		if env(envName(f.Name)) != "" {
			errs = append(errs, setFromEnv(fs, f, env))
			return
		}
		if v, ok := file.values[f.Name]; ok {
			if err := setFromFile(fs, f, v); err != nil {
				errs = append(errs, fmt.Errorf("config file %s: key %q: %w", file.path, f.Name, err))
			}
		}
	})
	for _, key := range slices.Sorted(maps.Keys(file.values)) {
		if f := fs.Lookup(key); f == nil || key == flagConfig || key == flagHelp {
			errs = append(errs, fmt.Errorf("config file %s: unknown key %q", file.path, key))
		}
	}
	return errors.Join(errs...)
}

func setFromEnv(fs *pflag.FlagSet, f *pflag.Flag, env func(string) string) error {
	name := envName(f.Name)
	v := env(name)
	if f.Changed || v == "" {
		return nil
	}
	if err := fs.Set(f.Name, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// setFromFile sets a flag from a decoded YAML value: a scalar, or a list
// of scalars for a list flag.
func setFromFile(fs *pflag.FlagSet, f *pflag.Flag, v any) error {
	list, isList := v.([]any)
	if !isList {
		s, err := scalar(v)
		if err != nil {
			return err
		}
		return fs.Set(f.Name, s)
	}
	sv, ok := f.Value.(pflag.SliceValue)
	if !ok {
		return errors.New("takes one value, not a list")
	}
	items := make([]string, len(list))
	for i, item := range list {
		s, err := scalar(item)
		if err != nil {
			return fmt.Errorf("item %d: %w", i+1, err)
		}
		items[i] = s
	}
	if err := sv.Replace(items); err != nil {
		return err
	}
	f.Changed = true
	return nil
}

func scalar(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		return v.String(), nil
	case nil:
		return "", errors.New("has no value")
	default:
		return "", errors.New("must be a string, number or boolean")
	}
}

// configFile is a decoded --config file: flag names to values.
type configFile struct {
	path   string
	values map[string]any
}

// readConfigFile reads a YAML (or JSON) mapping of flag names to values.
// No path means no file, and an empty file sets nothing.
func readConfigFile(path string) (configFile, error) {
	file := configFile{path: path}
	if path == "" {
		return file, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return file, fmt.Errorf("config file: %w", err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return file, fmt.Errorf("config file %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&file.values); err != nil {
		return file, fmt.Errorf("config file %s: want a mapping of flag names to values: %w", path, err)
	}
	return file, nil
}
