package main

import (
	"slices"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/node"
)

// The explorer and CORS flags override the home's settings only when given.
func TestExplorerFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		enabled *bool
		origins []string
		gateway string
	}{
		{args: nil},
		{args: []string{"--explorer=false"}, enabled: new(bool)},
		{args: []string{"--api.cors-origins", "https://a.example,https://b.example", "--api.cors-origins", "*"}, origins: []string{"https://a.example", "https://b.example", "*"}},
		{args: []string{"--explorer.gateway-url", "http://127.0.0.1:8080"}, gateway: "http://127.0.0.1:8080"},
	} {
		var ef explorerFlags
		var o node.Options
		cmd := &cobra.Command{Use: "x", RunE: func(cmd *cobra.Command, _ []string) error { ef.apply(cmd, &o); return nil }}
		ef.register(cmd, true)
		cmd.SetArgs(tc.args)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		if (o.ExplorerEnabled == nil) != (tc.enabled == nil) || (o.ExplorerEnabled != nil && *o.ExplorerEnabled != *tc.enabled) ||
			!slices.Equal(o.CORSOrigins, tc.origins) || (o.CORSOrigins == nil) != (tc.origins == nil) || o.GatewayURL != tc.gateway {
			t.Errorf("%v: %+v", tc.args, o)
		}
	}
}
