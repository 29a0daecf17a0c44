// Command pulumi-resource-kubernetes serves the Pulumi Kubernetes provider.
//
// Upstream's cmd/pulumi-resource-kubernetes/main.go cannot be built from the
// module zip: it embeds schema-embed.json and terraform-mapping-embed.json,
// which are git-ignored files made by `go generate`. build.sh makes them with
// ./gen from the committed schema.json / terraform-mapping.json of the module
// (the same transformation as upstream's generate.go) in a scratch copy of
// this folder, then builds this package, which is upstream's main verbatim in
// behaviour.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
