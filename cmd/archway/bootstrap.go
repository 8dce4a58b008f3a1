package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/archway-gateway/archway/envoy"
)

// newBootstrapCommand renders the bootstrap an Envoy needs to join the
// fleet: a node identity, the ADS stream to Archway's Envoy-facing gRPC
// server, and an admin API on loopback. Listeners, routes and clusters all
// arrive over xDS.
func newBootstrapCommand(stdout io.Writer) *cobra.Command {
	var (
		opts envoy.BootstrapOptions
		out  string
	)
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Write the bootstrap configuration of an Envoy served by Archway",
		Long: "Write the bootstrap of an Envoy that gets its configuration from Archway over ADS.\n" +
			"Start Envoy with it: envoy -c FILE.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b, err := envoy.Bootstrap(opts)
			if err != nil {
				return err
			}
			if out != "" && out != "-" {
				return envoy.WriteBootstrap(out, b)
			}
			y, err := envoy.RenderYAML(b)
			if err != nil {
				return err
			}
			_, err = stdout.Write(y)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.NodeID, "node-id", "", "the Envoy's node `id` (required)")
	fs.StringVar(&opts.Cluster, "cluster", envoy.DefaultNodeCluster, "the Envoy's node `cluster`")
	fs.StringVar(&opts.XDSAddr, "xds-addr", "127.0.0.1:18000", "Archway's Envoy-facing gRPC `address` (host:port)")
	fs.StringVar(&opts.AdminAddr, "admin-addr", envoy.DefaultAdminAddr, "Envoy's admin API `address` (ip:port)")
	fs.BoolVar(&opts.Delta, "delta", false, "use incremental (delta) xDS")
	fs.Int64Var(&opts.MaxDownstreamConnections, "max-connections", envoy.DefaultMaxDownstreamConnections, "cap on client connections")
	fs.StringVarP(&out, "output", "o", "-", "`file` to write; - for standard output")
	_ = cmd.MarkFlagRequired("node-id")
	return cmd
}
