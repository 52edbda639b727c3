package main

import (
	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/explorer"
	"github.com/tessera-net/tessera/node"
)

// explorerFlags are the flags of `node start` and `devnet` that shape the JSON API's
// explorer and CORS; a flag left unset keeps the home's config/tessera.json setting.
type explorerFlags struct {
	explorer    bool
	corsOrigins []string
	gatewayURL  string
}

// register adds the flags to cmd; withGateway adds --explorer.gateway-url (a devnet
// knows its own gateway).
func (f *explorerFlags) register(cmd *cobra.Command, withGateway bool) {
	cmd.Flags().BoolVar(&f.explorer, "explorer", true, "serve the explorer's web page on the JSON API's address, at / and /explorer/ (config: explorer)")
	cmd.Flags().StringSliceVar(&f.corsOrigins, "api.cors-origins", nil,
		`origins a browser page elsewhere may call the JSON API from, comma-separated or repeated, e.g. https://app.example, or "*" for any (config: api_cors_origins; default none)`)
	if withGateway {
		cmd.Flags().StringVar(&f.gatewayURL, "explorer.gateway-url", "", "the gateway whose traffic the explorer shows, e.g. http://127.0.0.1:8080 (config: explorer_gateway_url)")
	}
}

// apply sets the node options of the flags the command line set.
func (f *explorerFlags) apply(cmd *cobra.Command, o *node.Options) {
	o.Explorer = explorer.Handler()
	if cmd.Flags().Changed("explorer") {
		o.ExplorerEnabled = &f.explorer
	}
	if cmd.Flags().Changed("api.cors-origins") {
		o.CORSOrigins = append([]string{}, f.corsOrigins...)
	}
	o.GatewayURL = f.gatewayURL
}
