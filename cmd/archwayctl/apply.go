package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/archway-gateway/archway/internal/apply"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// applyCommand makes APIs look like their definitions in a file. The file
// is decoded in full first, so a typo anywhere stops the run before any
// API changes; each API is then applied in its own transaction, in file
// order, stopping at the first the admin API refuses.
func (c *cli) applyCommand() *cobra.Command {
	var (
		file                string
		pruneStages, dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Create or update APIs from a YAML or JSON file",
		Long: "apply reads API definitions from FILE (YAML, several documents separated by ---,\n" +
			"or JSON; - for stdin) and makes each API, its integrations and routes, and the\n" +
			"stages it names match. Applying the same file twice changes nothing.",
		Args: cobra.NoArgs,
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, _ []string) error {
			defs, err := c.readDefinitions(file)
			if err != nil {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			for _, def := range defs {
				resp, err := cl.ApplyApi(ctx, &adminv1.ApplyApiRequest{
					Definition: def, PruneStages: pruneStages, DryRun: dryRun,
				})
				if err != nil {
					return fmt.Errorf("api %s: %w", def.GetName(), err)
				}
				if err := c.printChanges(def.GetName(), resp.GetChanges(), dryRun); err != nil {
					return err
				}
			}
			return nil
		}),
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "the file to apply, or - for stdin (required)")
	_ = cmd.MarkFlagRequired("filename")
	cmd.Flags().BoolVar(&pruneStages, "prune-stages", false, "also delete stages the file does not name")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate and show the changes without making them")
	return cmd
}

// readDefinitions reads and decodes the file, naming it in every error.
func (c *cli) readDefinitions(file string) ([]*adminv1.ApiDefinition, error) {
	var (
		data []byte
		err  error
	)
	if file == "-" {
		data, err = io.ReadAll(c.in)
		file = "stdin"
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	defs, err := apply.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(defs) == 0 {
		return nil, fmt.Errorf("%s holds no API definitions", file)
	}
	return defs, nil
}

// printChanges writes one line per change, as "route GET /pets created",
// or says that the API already matched its definition.
func (c *cli) printChanges(api string, changes []*adminv1.Change, dryRun bool) error {
	suffix := ""
	if dryRun {
		suffix = " (dry run)"
	}
	if len(changes) == 0 {
		_, err := fmt.Fprintf(c.out, "api %s unchanged%s\n", api, suffix)
		return err
	}
	for _, ch := range changes {
		action := strings.ToLower(strings.TrimPrefix(ch.GetAction().String(), "ACTION_"))
		if _, err := fmt.Fprintf(c.out, "%s %s %s%s\n", ch.GetKind(), ch.GetName(), action, suffix); err != nil {
			return err
		}
	}
	return nil
}
