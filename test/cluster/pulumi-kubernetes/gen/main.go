// Command gen writes schema-embed.json and terraform-mapping-embed.json for
// ../main.go, doing what upstream's cmd/pulumi-resource-kubernetes/generate.go
// does: stamp the version into schema.json and compact both files.
//
// Usage: go run ./gen <module cmd dir> <output dir> <version>
package main

import (
	"encoding/json"
	"log"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	if len(os.Args) != 4 {
		log.Fatal("usage: gen <dir with schema.json and terraform-mapping.json> <out dir> <version>")
	}
	in, out, version := os.Args[1], os.Args[2], os.Args[3]

	raw, err := os.ReadFile(filepath.Join(in, "schema.json"))
	if err != nil {
		log.Fatal(err)
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		log.Fatalf("cannot deserialize schema: %v", err)
	}
	spec.Version = version
	versioned, err := json.Marshal(spec)
	if err != nil {
		log.Fatalf("cannot reserialize schema: %v", err)
	}
	if err := os.WriteFile(filepath.Join(out, "schema-embed.json"), versioned, 0o600); err != nil {
		log.Fatal(err)
	}

	raw, err = os.ReadFile(filepath.Join(in, "terraform-mapping.json"))
	if err != nil {
		log.Fatal(err)
	}
	var mapping any
	if err := json.Unmarshal(raw, &mapping); err != nil {
		log.Fatalf("cannot deserialize terraform mapping: %v", err)
	}
	compact, err := json.Marshal(mapping)
	if err != nil {
		log.Fatalf("cannot reserialize terraform mapping: %v", err)
	}
	if err := os.WriteFile(filepath.Join(out, "terraform-mapping-embed.json"), compact, 0o600); err != nil {
		log.Fatal(err)
	}
}
